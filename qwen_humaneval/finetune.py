"""`make finetune`: distillation by rejection sampling, then LoRA, then back to a served GGUF.

Stages, each resumable and skipped when its output is complete (the teacher's samples under
output/finetune/teacher-<teacher>/, shared by every student; the rest under OUT, default
output/finetune/<student>-from-<teacher>/):
1. teacher: the teacher (any OpenAI-compatible server) samples solutions for MBPP's training split
   (task_ids 601-974; never HumanEval, never MBPP's test split) -> solutions.jsonl;
2. filter: each sample is run against its own problem's asserts in the sandbox; only passing ones
   are kept, deduplicated, at most PER_TASK per problem -> train.jsonl (the student's prompt
   layout);
3. train: LoRA on the student's bf16 weights (converted once from its verified GGUF), merged ->
   merged/;
4. gguf: llama.cpp's own converter (convert_hf_to_gguf.py from the pinned source) to f16, then its
   quantizer to Q4_K_M -> <name>-q4_k_m.gguf, served like any model: `make all MODEL_PATH=...`.

Stages 3 and 4 run in .venv-finetune (torch, transformers, peft), built from
requirements-finetune.txt.
"""

import json
import sys
from pathlib import Path

from . import config, prompts
from .artifacts import sha256_file
from .datasets import TRAINING_DATASET, load_problems
from .evaluation import evaluate
from .extract import normalized
from .generation import run_generation
from .interpreters import run_module
from .jsonl_io import InputError, read_jsonl, sample_keys, write_jsonl_atomic
from .llama_build import binary_path, build, run_logged, source_dir
from .manifest import read_manifest, write_manifest
from .model_fetch import ensure_model
from .settings import Settings
from .strategies import Sampling


def finetune_python() -> str:
    python = config.FINETUNE_VENV / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(f"{python} is missing: `make finetune-venv` builds it")
    return str(python)


def training_example(problem: dict, completion: str, style: str = "prefill") -> dict:
    """The exact request the student will see at generation time, and the teacher's answer as the
    target."""
    messages, prefill = prompts.direct(problem["prompt"], style, problem["entry_point"])
    return {
        "task_id": problem["task_id"],
        "messages": messages,
        "prefill": prefill,
        "target": completion.rstrip("\n") + "\n```",
    }


def select_examples(
    problems: dict, solutions: list[dict], results: list[dict], per_task: int
) -> list[dict]:
    """Rejection sampling: the samples whose verdict is 'passed', distinct per task, at most
    per_task each."""
    passed = {(r["task_id"], r["completion_id"]) for r in results if r.get("category") == "passed"}
    kept: dict[str, dict[str, str]] = {}
    for key, sample in zip(sample_keys(solutions), solutions):
        if key not in passed:
            continue
        seen = kept.setdefault(sample["task_id"], {})
        if len(seen) < per_task:
            seen.setdefault(normalized(sample["completion"]), sample["completion"])
    return [
        training_example(problems[task_id], completion)
        for task_id in problems
        if task_id in kept
        for completion in kept[task_id].values()
    ]


def teacher_stage(
    teacher_dir: Path,
    teacher_urls: list[str],
    teacher: Settings,
    samples: int,
    temperature: float,
    limit: int,
) -> Path:
    solutions = teacher_dir / "solutions.jsonl"
    manifest = read_manifest(solutions)
    available = len(load_problems(TRAINING_DATASET, teacher.cache_dir))
    wanted = min(limit, available) if limit else available
    if (
        manifest
        and manifest.get("status") == "complete"
        and manifest["settings"].get("tasks") == wanted
    ):
        print(f"teacher: {solutions} is complete")
        # else generation resumes: a larger LIMIT only adds the problems not sampled yet
        return solutions
    sampling = Sampling(temperature=temperature, stops=prompts.stops_for(TRAINING_DATASET))
    run_generation(
        teacher_urls,
        teacher,
        solutions,
        strategy="baseline",
        sampling=sampling,
        samples=samples,
        limit=limit,
        dataset=TRAINING_DATASET,
    )
    return solutions


def filter_stage(out: Path, solutions: Path, per_task: int, cache_dir: Path) -> tuple[Path, dict]:

    manifest = read_manifest(solutions)
    if not manifest or manifest.get("status") != "complete":
        raise InputError(
            f"{solutions}: the teacher's samples are not complete; run the teacher stage first "
            "(`make finetune`, or scripts/finetune.py --stage teacher)"
        )
    problems = load_problems(TRAINING_DATASET, cache_dir)
    results = evaluate(
        solutions,
        solutions.with_name(f"results_{TRAINING_DATASET}.jsonl"),
        cache_dir=cache_dir,
        dataset=TRAINING_DATASET,
        problems=problems,
    )
    samples = [record for _, record in read_jsonl(solutions)]
    examples = select_examples(problems, samples, results, per_task)
    train = out / "train.jsonl"
    write_jsonl_atomic(train, examples)
    stats = {
        "teacher_samples": len(samples),
        "teacher_passed": sum(r["category"] == "passed" for r in results),
        "tasks_sampled": len({s["task_id"] for s in samples}),
        "tasks_kept": len({e["task_id"] for e in examples}),
        "examples": len(examples),
    }
    print(
        f"filter: {stats['teacher_passed']}/{stats['teacher_samples']} teacher samples pass their "
        f"asserts; {stats['examples']} distinct examples from {stats['tasks_kept']} tasks -> "
        f"{train}"
    )
    return train, stats


def student_weights(student: str, settings: Settings) -> Path:
    """The student's verified GGUF as a bf16 Hugging Face directory (converted once, cached)."""
    pin = config.MODELS[student]
    gguf = ensure_model(pin, settings)
    dest = settings.hf_model_dir(student)
    run_module(
        "hf_convert",
        "--gguf",
        gguf,
        "--dest",
        dest,
        "--sha256",
        pin.sha256,
        python=finetune_python(),
    )
    return dest


def train_stage(out: Path, base: Path, train: Path, settings: dict) -> Path:
    merged = out / "merged"
    if (merged / "training.json").exists():
        print(f"train: {merged} is complete")
        return merged
    args = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()]
    run_module(
        "lora", "--base", base, "--data", train, "--out", merged, *args, python=finetune_python()
    )
    return merged


def to_gguf(hf_dir: Path, gguf: Path, cache_dir: Path, quantization: str = "Q4_K_M") -> Path:
    """llama.cpp's converter (f16 GGUF), then its quantizer; the f16 intermediate is deleted."""
    if gguf.exists():
        print(f"gguf: {gguf} is complete")
        return gguf
    f16 = gguf.with_name(gguf.stem + ".f16.gguf")
    converter = source_dir(cache_dir) / "convert_hf_to_gguf.py"
    quantize = binary_path(cache_dir, "llama-quantize")
    if not quantize.exists():
        build(cache_dir, config.cores(), "llama-quantize")
    partial = gguf.with_suffix(".partial")
    log = gguf.with_name(gguf.name + ".log")
    log.unlink(missing_ok=True)
    run_logged(
        [finetune_python(), str(converter), str(hf_dir), "--outfile", str(f16), "--outtype", "f16"],
        log,
        "to gguf f16",
    )
    run_logged(
        [str(quantize), str(f16), str(partial), quantization], log, f"quantize {quantization}"
    )
    f16.unlink()
    partial.rename(gguf)
    return gguf


def run_finetune(
    out: Path,
    teacher_dir: Path,
    *,
    settings: Settings,
    student: str,
    teacher_urls: list[str],
    teacher_model: str,
    samples: int,
    temperature: float,
    per_task: int,
    limit: int,
    train_settings: dict,
    stage: str = "all",
) -> dict:
    """stage: "teacher" (needs the teacher's server), "student" (filter, train, gguf; no server), or
    "all"."""
    settings = {
        "student": student,
        "teacher_model": teacher_model,
        "teacher_urls": teacher_urls,
        "samples": samples,
        "temperature": temperature,
        "per_task": per_task,
        "limit": limit,
        "train": train_settings,
        "train_dataset": TRAINING_DATASET,
    }
    solutions = teacher_dir / "solutions.jsonl"
    if stage in ("teacher", "all"):
        teacher = settings.but(model=teacher_model)
        solutions = teacher_stage(teacher_dir, teacher_urls, teacher, samples, temperature, limit)
    if stage == "teacher":
        return {}
    train, stats = filter_stage(out, solutions, per_task, settings.cache_dir)
    merged = train_stage(out, student_weights(student, settings), train, train_settings)
    training = json.loads((merged / "training.json").read_text())
    gguf = to_gguf(merged, out / f"{out.name}-q4_k_m.gguf", settings.cache_dir)

    stats = {
        **stats,
        "steps": training["steps"],
        "train_seconds": training["train_seconds"],
        "loss_first": training["loss_first"],
        "loss_last": training["loss_last"],
        "gguf": str(gguf),
        "gguf_sha256": sha256_file(gguf),
        "gguf_bytes": gguf.stat().st_size,
    }
    # beside the model: its provenance
    write_manifest(gguf, "finetune", settings, stats=stats, training=training)
    print(
        f"fine-tuned {student}: {gguf}\n  evaluate it with: make all MODEL_PATH={gguf}",
        file=sys.stderr,
    )
    return stats
