#!/usr/bin/env python3
"""Generation throughput against llama-server: the original sequential client vs 1, 2, 4, 8 requests in flight."""

import argparse
import sys

from qwen_humaneval.bench import bench_generate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--tasks", type=int, default=argparse.SUPPRESS, help="tasks sent at each level (the first N of HumanEval; 16)"
    )
    ap.add_argument(
        "--levels", type=lambda s: tuple(int(x) for x in s.split(",")), default=argparse.SUPPRESS, help="1,2,4,8"
    )
    bench_generate(**vars(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
