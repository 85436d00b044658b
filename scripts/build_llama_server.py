#!/usr/bin/env python3
"""Build a llama.cpp tool (llama-server by default) from the pinned source release and cache the
binary (see llama_build.py)."""

import sys

from qwen_humaneval.cli.build_llama_server import main

if __name__ == "__main__":
    sys.exit(main())
