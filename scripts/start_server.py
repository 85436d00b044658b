#!/usr/bin/env python3
"""Start llama.cpp's llama-server with the verified Qwen GGUF on 127.0.0.1, in the background, and
wait until ready."""

import sys

from qwen_humaneval.cli.start_server import main

if __name__ == "__main__":
    sys.exit(main())
