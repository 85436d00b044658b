#!/usr/bin/env python3
"""Do verdicts follow the machine? A full run's solutions evaluated idle and beside a CPU hog, adaptive and
fixed timeouts."""

import argparse
import sys
from pathlib import Path

from qwen_humaneval import config
from qwen_humaneval.bench import bench_timeouts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--solutions", type=Path, default=config.OUTPUT_DIR / "solutions.jsonl")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    if not args.solutions.exists():
        print(f"error: {args.solutions}: no such file (run `make all` first, or pass SOLUTIONS=...)", file=sys.stderr)
        return 1
    return 0 if bench_timeouts(args.solutions, args.workers) else 1


if __name__ == "__main__":
    sys.exit(main())
