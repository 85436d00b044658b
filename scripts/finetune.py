#!/usr/bin/env python3
"""Distil a teacher into a student on MBPP's training split: rejection sampling, LoRA, GGUF (see
finetune.py)."""

import sys

from qwen_humaneval.cli.finetune import main

if __name__ == "__main__":
    sys.exit(main())
