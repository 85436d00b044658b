"""`make select`: mbr-exec's choice (selection.py) over runs already generated, no server needed."""

from pathlib import Path

from tqdm import tqdm

from . import config
from .datasets import load_problems
from .generation import request_seed, visible_part
from .jsonl_io import InputError, read_jsonl, write_jsonl_atomic
from .manifest import read_manifest, write_manifest
from .sandbox.pool import SandboxPool
from .selection import choose, record_fields


def select_from_runs(
    greedy: Path,
    samples: Path,
    output: Path,
    candidates: int = config.CANDIDATES,
    inputs: int = config.MBR_INPUTS,
    workers: int = 2,
) -> dict:
    """mbr-exec's choice over runs already generated: each task's greedy answer (a SAMPLES=1 run at
    temperature 0) and its first `candidates` samples (a SAMPLES=k run) -> one solution per task. The
    selection costs no request; the pool's generation time is the two runs' own (their manifests)."""
    runs = {}
    for path, want in ((greedy, 1), (samples, candidates)):
        settings = (read_manifest(path) or {}).get("settings", {})
        by_task: dict[str, list] = {}
        for lineno, record in read_jsonl(path, required={"task_id": str, "completion": str}):
            by_task.setdefault(record["task_id"], []).append((record.get("sample", 0), record["completion"]))
        runs[path] = (settings, by_task, want)
    greedy_settings = runs[greedy][0]
    if greedy_settings.get("temperature", 0.0) != 0.0:
        raise InputError(f"{greedy}: its manifest says temperature {greedy_settings['temperature']}, not a greedy run")
    problems = load_problems(greedy_settings.get("dataset", "humaneval"))
    records, picked_greedy = [], 0
    with SandboxPool(workers) as sandbox:
        index_of = {task_id: i for i, task_id in enumerate(problems)}  # a task's seed, as generation numbers it
        tasks = [t for t in problems if t in runs[greedy][1]]  # a LIMIT=n greedy run: its n tasks
        for task_id in tqdm(tasks, desc="select", unit="task"):
            problem, index = problems[task_id], index_of[task_id]
            pool = []
            for path, (_, by_task, want) in runs.items():
                answers = [c for _, c in sorted(by_task.get(task_id, []))][:want]
                if len(answers) < want:
                    raise InputError(f"{path}: {task_id} has {len(answers)} samples, {want} wanted")
                pool += answers
            pick, info = choose(
                visible_part(problem),
                pool,
                sandbox,
                inputs=inputs,
                seed=request_seed(greedy_settings.get("seed", config.SEED), index, 0),
            )
            picked_greedy += pick == 0
            records.append(
                {
                    "task_id": task_id,
                    "sample": 0,
                    "completion": pool[pick],
                    "strategy": "mbr-exec",
                    **record_fields(pick, pool, info),
                }
            )
    write_jsonl_atomic(output, records)
    stats = {"tasks": len(records), "picked_greedy": picked_greedy}
    write_manifest(
        output,
        "select",
        {
            "strategy": "mbr-exec",
            "greedy": str(greedy),
            "samples": str(samples),
            "candidates": candidates,
            "mbr_inputs": inputs,
            "dataset": greedy_settings.get("dataset", "humaneval"),
            "sources": {str(p): s for p, (s, _, _) in runs.items()},
        },
        stats=stats,
    )
    print(f"{output}: {len(records)} tasks, the greedy answer kept on {picked_greedy}", flush=True)
    return stats
