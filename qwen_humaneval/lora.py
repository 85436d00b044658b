"""LoRA fine-tuning of a Qwen2-shaped causal LM on prompt/answer pairs, then merged into plain
weights.

Runs inside the fine-tuning environment (.venv-finetune: torch, transformers, peft); the rest of the
project never imports it. Each example is the exact text the model sees at generation time: the chat
template up to the assistant's turn, then the assistant prefill, then the target answer. The loss is
on the target tokens only (the answer and the end of the turn), never on the prompt.
"""

import argparse
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from tqdm import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
END_OF_TURN = "<|im_end|>\n"


@dataclass
class TrainSettings:
    epochs: float = 1.0
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    learning_rate: float = 2e-4
    # examples per optimizer step (batch of one, no padding: cheapest on a CPU)
    accumulation: int = 8
    max_length: int = 1024
    max_steps: int = 0  # 0: as many as the epochs give
    seed: int = 1234


def encode(tokenizer, example: dict, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (-100 on the prompt) for one {"messages", "prefill", "target"}
    example."""
    prompt = tokenizer.apply_chat_template(
        example["messages"], tokenize=False, add_generation_prompt=True
    )
    prompt += example.get("prefill") or ""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(example["target"] + END_OF_TURN, add_special_tokens=False)["input_ids"]
    ids = (prompt_ids + target_ids)[:max_length]
    labels = ([-100] * len(prompt_ids) + target_ids)[:max_length]
    return ids, labels


def read_examples(path: Path) -> list[dict]:
    examples = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            for field in ("messages", "target"):
                if field not in record:
                    raise ValueError(f"{path}:{lineno}: missing field {field!r}")
            examples.append(record)
    return examples


def lora_model(base: Path, settings: TrainSettings):
    """The base model with LoRA adapters on TARGET_MODULES (only they train), and its tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model.config.use_cache = False
    lora = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=TARGET_MODULES,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora), tokenizer


def run_steps(model, encoded: list, steps: int, settings: TrainSettings) -> tuple[list[float], int]:
    """AdamW with warm-up then linear decay, gradient accumulation, bf16 autocast: (loss per step,
    tokens)."""
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.learning_rate,
        weight_decay=0.0,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    order: list[int] = []
    losses, tokens = [], 0
    model.train()
    bar = tqdm(range(steps), desc="lora", unit="step")
    for _ in bar:
        total = 0.0
        for _ in range(settings.accumulation):
            if not order:
                order = random.sample(range(len(encoded)), len(encoded))
            ids, labels = encoded[order.pop()]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
            (loss / settings.accumulation).backward()
            total += loss.item() / settings.accumulation
            tokens += len(ids)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(round(total, 4))
        bar.set_postfix(loss=f"{total:.3f}")
    return losses, tokens


def train(base: Path, data: Path, out: Path, settings: TrainSettings) -> dict:
    """Train a LoRA adapter on data, merge it into base's weights, save the merged model (bf16) and
    its tokenizer into out (written as out.partial, renamed when complete). Returns the training
    record."""
    torch.manual_seed(settings.seed)
    random.seed(settings.seed)
    model, tokenizer = lora_model(base, settings)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    encoded = [encode(tokenizer, e, settings.max_length) for e in read_examples(data)]
    encoded = [(ids, labels) for ids, labels in encoded if any(x != -100 for x in labels)]
    if not encoded:
        raise ValueError(
            f"{data}: no example with a target inside max_length {settings.max_length}"
        )
    steps = math.ceil(len(encoded) * settings.epochs / settings.accumulation)
    if settings.max_steps:
        steps = min(steps, settings.max_steps)
    start = time.time()
    losses, tokens = run_steps(model, encoded, steps, settings)
    seconds = time.time() - start
    merged = model.merge_and_unload()
    merged.config.use_cache = True
    partial = out.with_name(out.name + ".partial")
    merged.to(torch.bfloat16).save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    record = {
        "base": str(base),
        "data": str(data),
        "examples": len(encoded),
        "steps": steps,
        "trainable_parameters": trainable,
        "tokens_seen": tokens,
        "train_seconds": round(seconds, 1),
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "losses": losses,
        "settings": asdict(settings),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    (partial / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    partial.rename(out)
    return record


def main() -> int:
    ap = argparse.ArgumentParser(
        description="LoRA-train a model on prompt/answer examples and save the merged weights."
    )
    ap.add_argument("--base", type=Path, required=True, help="Hugging Face model directory")
    ap.add_argument("--data", type=Path, required=True, help="JSONL of {messages, prefill, target}")
    ap.add_argument("--out", type=Path, required=True, help="where the merged model goes")
    for field in fields(TrainSettings):
        ap.add_argument(f"--{field.name.replace('_', '-')}", type=field.type, default=field.default)
    args = ap.parse_args()
    settings = TrainSettings(**{f.name: getattr(args, f.name) for f in fields(TrainSettings)})
    record = train(args.base, args.data, args.out, settings)
    print(
        f"trained {record['steps']} steps on {record['examples']} examples in "
        f"{record['train_seconds']} s; loss {record['loss_first']} -> {record['loss_last']}; "
        f"merged model: {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
