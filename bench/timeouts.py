"""Timeouts under load: the same verdicts idle and beside a CPU hog? adaptive against fixed (make
bench-timeouts)."""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import load_average, publish
from qwen_humaneval import config
from qwen_humaneval.datasets import dataset as get_dataset
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.settings import Settings


class CpuHog:
    """Busy processes (per_core on each core) for as long as the with-block runs: a machine made
    slower on purpose."""

    def __init__(self, per_core: int = 4):
        self.count = per_core * (config.cores())

    def __enter__(self):
        self.procs = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)
        ]
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()


def bench_timeouts(settings: Settings, solutions: Path, workers: int | None = None) -> bool:
    """Verdicts idle and beside a CPU hog (four busy processes per core), with adaptive and with
    fixed timeouts, on HumanEval and HumanEval+: the adaptive ones must not move. Returns whether
    they did not."""
    workers = workers or config.cores()
    rows, verdicts = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"load average before: {load_average():.2f}; {solutions}, {workers} workers")
        for dataset in ("humaneval", "humanevalplus"):
            for mode in ("adaptive", "fixed"):
                for condition in ("idle", "cpu hog"):
                    out = tmp / f"{dataset}-{mode}-{condition.replace(' ', '-')}.jsonl"
                    kwargs = dict(
                        cache_dir=settings.cache_dir,
                        dataset=dataset,
                        workers=workers,
                        selfcheck_cache=tmp / "selfcheck",
                        timeout=None if mode == "adaptive" else get_dataset(dataset).timeout,
                    )
                    start = time.time()
                    if condition == "idle":
                        results = evaluate(solutions, out, **kwargs)
                    else:
                        with CpuHog():
                            results = evaluate(solutions, out, **kwargs)
                    seconds = time.time() - start
                    timing = json.loads(out.with_name(out.name + ".manifest.json").read_text())[
                        "settings"
                    ]["timeout"]
                    verdicts[(dataset, mode, condition)] = {
                        r["task_id"]: r["passed"] for r in results
                    }
                    rows.append(
                        {
                            "dataset": dataset,
                            "mode": mode,
                            "condition": condition,
                            "seconds": round(seconds, 1),
                            "slowdown": timing["slowdown"],
                            "passed": sum(r["passed"] for r in results),
                        }
                    )
                idle, loaded = (
                    verdicts[(dataset, mode, "idle")],
                    verdicts[(dataset, mode, "cpu hog")],
                )
                rows[-1]["moved"] = sorted(t for t in idle if idle[t] != loaded.get(t))
    lines = [
        "| dataset | timeouts | condition | eval time | slowdown measured | passed | verdicts "
        "moved vs idle |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        moved = r.get("moved")
        slowdown = f"{r['slowdown']:.2f}x" if r["mode"] == "adaptive" else "not scaled"
        lines.append(
            f"| {r['dataset']} | {r['mode']} | {r['condition']} | {r['seconds']:.1f} s | "
            f"{slowdown} | {r['passed']} | {'' if moved is None else (', '.join(moved) or 'none')} "
            "|"
        )
    publish("bench_timeouts", lines, rows, settings.output_dir)
    return not any(r.get("moved") for r in rows if r["mode"] == "adaptive")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--solutions", type=Path, default=None, help="default: OUTPUT_DIR/solutions.jsonl"
    )
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    settings = Settings.from_environ()
    args.solutions = args.solutions or settings.output_dir / "solutions.jsonl"
    if not args.solutions.exists():
        print(
            f"error: {args.solutions}: no such file (run `make all` first, or pass SOLUTIONS=...)",
            file=sys.stderr,
        )
        return 1
    return 0 if bench_timeouts(settings, args.solutions, args.workers) else 1


if __name__ == "__main__":
    sys.exit(main())
