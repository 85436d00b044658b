#!/usr/bin/env python3
"""HumanEval+ or MBPP+: our evaluator against EvalPlus's own (evalplus 0.3.1, offline), same solutions, same run."""

import argparse
import sys
from pathlib import Path

from qwen_humaneval import config
from qwen_humaneval.bench import bench_plus
from qwen_humaneval.datasets import REGISTRY


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--solutions", type=Path, default=config.OUTPUT_DIR / "solutions.jsonl", help="a full run's solutions"
    )
    ap.add_argument("--dataset", default="humanevalplus", choices=[n for n, d in REGISTRY.items() if d.evalplus[0]])
    ap.add_argument("--workers", type=int, default=None, help="for both evaluators (default: number of cores)")
    args = ap.parse_args()
    if not args.solutions.exists():
        print(f"error: {args.solutions}: no such file (run `make all` or `make generate` first)", file=sys.stderr)
        return 1
    return 0 if bench_plus(args.solutions, args.workers, args.dataset) else 1


if __name__ == "__main__":
    sys.exit(main())
