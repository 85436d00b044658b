"""Make a tiny, randomly initialised Qwen2-shaped model with Qwen's real tokenizer (taken from a
GGUF).

Run by the fine-tuning tests with .venv-finetune's python: `tiny_qwen2.py GGUF DEST`. Hidden size
256 so that llama.cpp's Q4_K quantization (256-wide blocks) applies to every matrix, as for the real
model.
"""

import sys
from pathlib import Path

import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM


def main(gguf: Path, dest: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=151936,
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=151643,
        eos_token_id=151645,
    )
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
