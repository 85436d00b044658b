#!/usr/bin/env python3
"""Run every strategy on a full dataset (HumanEval, or MBPP+), evaluate each on every dataset that
judges it, and compare (resumable)."""

import sys

from qwen_humaneval.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
