"""Distil a teacher into a student on MBPP's training split: rejection sampling, LoRA, GGUF (see
finetune.py)."""

import argparse
from pathlib import Path

from .. import config
from ..finetune import run_finetune
from ..settings import Settings
from . import handled


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--stage",
        default="all",
        choices=["all", "teacher", "student"],
        help="teacher: sample the training problems (needs the teacher's server); student: filter, "
        "train, convert",
    )
    ap.add_argument("--student", default=config.FINETUNE_STUDENT, choices=list(config.MODELS))
    ap.add_argument(
        "--teacher-url",
        default=config.BASE_URL,
        help="the teacher's OpenAI-compatible server(s), comma-separated",
    )
    ap.add_argument(
        "--teacher-model",
        default=config.FINETUNE_TEACHER,
        help="model name sent to the teacher's server",
    )
    ap.add_argument(
        "--samples",
        type=int,
        default=config.FINETUNE_SAMPLES,
        help="teacher samples per training problem",
    )
    ap.add_argument("--temperature", type=float, default=config.FINETUNE_TEMPERATURE)
    ap.add_argument(
        "--per-task",
        type=int,
        default=config.FINETUNE_PER_TASK,
        help="distinct passing samples kept per problem",
    )
    ap.add_argument(
        "--limit", type=int, default=0, help="only the first N training problems (0: all 374)"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="default: OUTPUT/finetune/<student>-from-<teacher>"
    )
    ap.add_argument(
        "--teacher-out",
        type=Path,
        default=None,
        help="the teacher's samples, shared by every student; default: "
        "OUTPUT/finetune/teacher-<teacher>",
    )
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--rank", type=int, default=16, help="LoRA rank")
    ap.add_argument("--learning-rate", type=float, default=2e-4)
    ap.add_argument(
        "--max-steps", type=int, default=0, help="cap on optimizer steps (0: the epochs decide)"
    )
    return ap


@handled
def main() -> int:
    args = parser().parse_args()
    settings = Settings.from_environ()
    out = args.out or settings.output_dir / "finetune" / f"{args.student}-from-{args.teacher_model}"
    teacher_out = (
        args.teacher_out or settings.output_dir / "finetune" / f"teacher-{args.teacher_model}"
    )
    train_settings = {
        "epochs": args.epochs,
        "rank": args.rank,
        "alpha": 2 * args.rank,
        "learning_rate": args.learning_rate,
        "max_steps": args.max_steps,
    }
    run_finetune(
        out,
        teacher_out,
        settings=settings,
        student=args.student,
        teacher_urls=[u.strip() for u in args.teacher_url.split(",") if u.strip()],
        teacher_model=args.teacher_model,
        samples=args.samples,
        temperature=args.temperature,
        per_task=args.per_task,
        limit=args.limit,
        train_settings=train_settings,
        stage=args.stage,
    )
    return 0
