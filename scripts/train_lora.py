"""LoRA-train a model on prompt/answer examples and save the merged weights (runs in .venv-finetune;
see lora.py)."""

import sys

from qwen_humaneval.lora import main

if __name__ == "__main__":
    sys.exit(main())
