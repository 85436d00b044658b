#!/usr/bin/env python3
"""What makes `make all` faster: each lever (prompt layout, flash attention, batch, slots, speculative decoding,
samples from one prefill) against the default of 2026-11-26, one fresh server each, in one run."""

import argparse
import sys

from qwen_humaneval.bench import LEVERS, bench_levers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--levers",
        type=lambda s: tuple(s.split(",")),
        default=argparse.SUPPRESS,
        help=f"comma-separated, in order (default: all): {','.join(LEVERS)}",
    )
    ap.add_argument(
        "--tasks", type=int, default=argparse.SUPPRESS, help="the first N tasks, greedy (24; 164 for the full run)"
    )
    ap.add_argument("--sample-tasks", type=int, default=argparse.SUPPRESS, help="tasks for the 5-sample levers (6)")
    try:
        bench_levers(**vars(ap.parse_args()))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
