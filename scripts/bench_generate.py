#!/usr/bin/env python3
"""Generation throughput against llama-server: the original sequential client vs 1, 2, 4, 8 requests in flight."""
import argparse
import sys

from qwen_humaneval.bench import bench_generate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=16, help="tasks sent at each level (the first N of HumanEval)")
    ap.add_argument("--levels", default="1,2,4,8")
    args = ap.parse_args()
    bench_generate(args.tasks, tuple(int(x) for x in args.levels.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
