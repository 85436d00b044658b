#!/usr/bin/env python3
"""LoRA-train a model on prompt/answer examples and save the merged weights (runs in .venv-finetune; see lora.py)."""

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from qwen_humaneval.lora import TrainSettings, train


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="Hugging Face model directory")
    ap.add_argument("--data", type=Path, required=True, help="JSONL of {messages, prefill, target}")
    ap.add_argument("--out", type=Path, required=True, help="where the merged model goes")
    for field in fields(TrainSettings):
        ap.add_argument(f"--{field.name.replace('_', '-')}", type=field.type, default=field.default)
    args = ap.parse_args()
    settings = TrainSettings(**{f.name: getattr(args, f.name) for f in fields(TrainSettings)})
    record = train(args.base, args.data, args.out, settings)
    print(
        f"trained {record['steps']} steps on {record['examples']} examples in {record['train_seconds']} s; "
        f"loss {record['loss_first']} -> {record['loss_last']}; merged model: {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
