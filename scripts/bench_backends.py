#!/usr/bin/env python3
"""llama.cpp vs vLLM on this machine, one backend after the other in one run: startup, tok/s, memory, pass@1."""

import argparse
import sys

from qwen_humaneval.bench import bench_backends


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backends", type=lambda s: tuple(s.split(",")), default=argparse.SUPPRESS, help="llama.cpp,vllm")
    ap.add_argument(
        "--tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="first N HumanEval tasks, 4 in flight, scored for pass@1 (40)",
    )
    ap.add_argument(
        "--sequential-tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="tasks after the scored ones, sent one at a time for tok/s at 1 (8)",
    )
    bench_backends(**vars(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
