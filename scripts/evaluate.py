#!/usr/bin/env python3
"""Evaluate solutions against HumanEval's (or HumanEval+'s) hidden tests in a sandbox -> results
JSONL."""

import sys

from qwen_humaneval.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
