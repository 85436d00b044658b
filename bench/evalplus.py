"""HumanEval+ or MBPP+: our evaluator against EvalPlus 0.3.1 (offline), same solutions, same run
(make bench-plus)."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import load_average
from qwen_humaneval import config
from qwen_humaneval.cli import handled
from qwen_humaneval.datasets import REGISTRY, Dataset
from qwen_humaneval.datasets import dataset as get_dataset
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.settings import Settings

EVALPLUS_VENV = config.REPO_ROOT / ".venv-evalplus"


def ensure_evalplus() -> Path:
    python = EVALPLUS_VENV / "bin" / "python"
    if not (EVALPLUS_VENV / ".installed").exists():
        print(
            f"creating {EVALPLUS_VENV} with {config.EVALPLUS_PACKAGE} (a few minutes)", flush=True
        )
        subprocess.run([sys.executable, "-m", "venv", str(EVALPLUS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", config.EVALPLUS_PACKAGE], check=True
        )
        (EVALPLUS_VENV / ".installed").touch()
    return python


def evalplus_verdicts(
    python: Path, solutions: Path, workers: int, cache_home: Path, spec: Dataset, dataset_file: Path
) -> tuple[float, dict, dict]:
    """EvalPlus's evaluator on solutions, offline on our pinned dataset file:
    (seconds, {task_id: passed base and plus}, {task_id: passed base})."""
    name, variable = spec.evalplus
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.jsonl"
        samples.write_text(solutions.read_text())
        env = {**os.environ, variable: str(dataset_file), "XDG_CACHE_HOME": str(cache_home)}
        start = time.time()
        subprocess.run(
            [
                str(python),
                "-m",
                "evalplus.evaluate",
                "--dataset",
                name,
                "--samples",
                str(samples),
                "--parallel",
                str(workers),
                "--i_just_wanna_run",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.time() - start
        report = json.loads((Path(tmp) / "samples_eval_results.json").read_text())
    first = {task_id: rows[0] for task_id, rows in report["eval"].items()}
    both = {
        task_id: row["base_status"] == row["plus_status"] == "pass"
        for task_id, row in first.items()
    }
    base = {task_id: row["base_status"] == "pass" for task_id, row in first.items()}
    return seconds, both, base


def bench_plus(
    settings: Settings, solutions: Path, workers: int | None = None, dataset: str = "humanevalplus"
) -> bool:
    """HumanEval+ or MBPP+: our evaluator against EvalPlus's own (evalplus 0.3.1), same solutions,
    same run.

    Both run twice, alternating: cold (expected outputs computed from the canonical solutions) and
    warm (taken from each one's cache). Verdicts (base, and base + plus) must agree task by task.
    Returns whether they did.
    """
    spec = get_dataset(dataset)
    workers = workers or config.cores()
    python = ensure_evalplus()
    dataset_file = spec.source(settings.cache_dir)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"load average before: {load_average():.2f}; {solutions}, {workers} workers each")
        for run in ("cold", "warm"):
            evalplus_cache = tmp / "evalplus-cache"
            theirs_s, theirs, theirs_base = evalplus_verdicts(
                python, solutions, workers, evalplus_cache, spec, dataset_file
            )
            start = time.time()
            results = evaluate(
                solutions,
                tmp / f"ours-{run}.jsonl",
                cache_dir=settings.cache_dir,
                dataset=dataset,
                workers=workers,
                expected_cache=tmp / "ours-cache",
            )
            ours_s = time.time() - start
            ours = {r["task_id"]: r["passed"] for r in results if r["completion_id"] == 0}
            ours_base = {
                r["task_id"]: r.get("base_passed") for r in results if r["completion_id"] == 0
            }
            differ = sorted(t for t in ours if ours[t] != theirs.get(t))
            differ_base = sorted(t for t in ours if ours_base[t] != theirs_base.get(t))
            rows.append(
                {
                    "run": run,
                    "evalplus_seconds": round(theirs_s, 1),
                    "ours_seconds": round(ours_s, 1),
                    "speedup": round(theirs_s / ours_s, 2),
                    "tasks": len(ours),
                    "passed_ours": sum(ours.values()),
                    "passed_evalplus": sum(theirs.values()),
                    "base_passed_ours": sum(bool(v) for v in ours_base.values()),
                    "base_passed_evalplus": sum(theirs_base.values()),
                    "differ": differ,
                    "differ_base": differ_base,
                }
            )
    print(spec.title)
    print(
        f"{'run':5s} {'EvalPlus':>9s} {'ours':>7s} {'speedup':>8s}  passed base / plus (ours | "
        "EvalPlus)"
    )
    for r in rows:
        print(
            f"{r['run']:5s} {r['evalplus_seconds']:8.1f}s {r['ours_seconds']:6.1f}s "
            f"{r['speedup']:7.2f}x  {r['base_passed_ours']} / {r['passed_ours']} | "
            f"{r['base_passed_evalplus']} / {r['passed_evalplus']}  differ: "
            f"{', '.join(r['differ'] + r['differ_base']) or 'none'}"
        )
    print(f"load average after: {load_average():.2f}")
    (settings.output_dir / f"bench_plus_{dataset}.json").write_text(
        json.dumps(rows, indent=2) + "\n"
    )
    return not any(r["differ"] or r["differ_base"] for r in rows)


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--solutions",
        type=Path,
        default=None,
        help="a full run's (default: OUTPUT_DIR/solutions.jsonl)",
    )
    ap.add_argument(
        "--dataset",
        default="humanevalplus",
        choices=[n for n, d in REGISTRY.items() if d.evalplus[0]],
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="for both evaluators (default: number of cores)"
    )
    args = ap.parse_args()
    settings = Settings.from_environ()
    args.solutions = args.solutions or settings.output_dir / "solutions.jsonl"
    if not args.solutions.exists():
        print(
            f"error: {args.solutions}: no such file (run `make all` or `make generate` first)",
            file=sys.stderr,
        )
        return 1
    return 0 if bench_plus(settings, args.solutions, args.workers, args.dataset) else 1


if __name__ == "__main__":
    sys.exit(main())
