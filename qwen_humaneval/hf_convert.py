#!/usr/bin/env python3
"""Convert the verified Qwen GGUF into a bf16 Hugging Face model directory that vLLM can load on
CPU.

Runs inside the vLLM environment (.venv-vllm: transformers, gguf, accelerate). vLLM cannot load GGUF
on CPU, so this dequantizes once (about 60 s, 5.7 GB peak memory, 3.4 GB on disk). Writes into
DEST.partial and renames it into place only when complete.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument(
        "--sha256", required=True, help="the verified GGUF's sha256, recorded in the output"
    )
    args = ap.parse_args()
    if (args.dest / "config.json").exists():
        print(f"already converted: {args.dest}")
        return 0
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    partial = args.dest.with_name(args.dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    source, name = str(args.gguf.parent), args.gguf.name
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=name, dtype=torch.bfloat16)
    # transformers refuses to save a model it loaded from GGUF until the quantizer traces are gone
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / "converted_from.json").write_text(
        json.dumps({"gguf": name, "sha256": args.sha256}, indent=2) + "\n"
    )
    partial.rename(args.dest)
    print(f"converted {args.gguf} -> {args.dest}")
    return 0


# python -m qwen_humaneval.hf_convert, in the environment that has transformers
if __name__ == "__main__":
    sys.exit(main())
