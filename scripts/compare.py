#!/usr/bin/env python3
"""Run every strategy on a full dataset (HumanEval, or MBPP+), evaluate each on every dataset that judges it,
and compare (resumable)."""

import argparse
import subprocess
import sys
from pathlib import Path

from qwen_humaneval import config
from qwen_humaneval.compare import compare, compare_folders
from qwen_humaneval.datasets import DEFAULT
from qwen_humaneval.generation import GENERATION_DATASETS
from qwen_humaneval.strategies import STRATEGIES


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", default=config.BASE_URL)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--dataset", default=DEFAULT, choices=GENERATION_DATASETS)
    ap.add_argument(
        "--candidates",
        "--codet-candidates",
        type=int,
        default=None,
        help="sampled candidates per task (default: each strategy's own)",
    )
    ap.add_argument(
        "--runs",
        default="",
        help="comma-separated folders of runs already evaluated on both datasets: "
        "only the table, no server (the first row is the reference)",
    )
    args = ap.parse_args()
    if args.runs:
        compare_folders([Path(f.strip()) for f in args.runs.split(",") if f.strip()])
        return 0
    compare(args.base_url, tuple(args.strategies.split(",")), args.limit, args.candidates, args.dataset)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: rerun `make compare` to continue where it stopped", file=sys.stderr)
        sys.exit(130)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except subprocess.CalledProcessError as e:
        print(f"error: {' '.join(map(str, e.cmd[1:3]))} failed with exit code {e.returncode}", file=sys.stderr)
        sys.exit(1)
