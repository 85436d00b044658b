"""Convert the verified Qwen GGUF into a bf16 Hugging Face model directory (see
qwen_humaneval/hf_convert.py)."""

import sys

from qwen_humaneval.hf_convert import main

if __name__ == "__main__":
    sys.exit(main())
