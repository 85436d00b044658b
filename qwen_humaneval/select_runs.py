"""`make select`: mbr-exec's choice (selection.py) over runs already generated, no server needed."""

from pathlib import Path

from tqdm import tqdm

from . import config
from .datasets import DEFAULT, load_problems
from .generation import request_seed, visible_part
from .jsonl_io import InputError, read_jsonl, write_jsonl_atomic
from .manifest import read_manifest, write_manifest
from .sandbox.pool import SandboxPool
from .selection import choose, record_fields


def read_runs(greedy: Path, samples: Path, candidates: int) -> dict:
    """Each run's manifest settings, its answers by task (sample number, completion), and how many
    are wanted."""
    runs = {}
    for path, want in ((greedy, 1), (samples, candidates)):
        settings = (read_manifest(path) or {}).get("settings", {})
        by_task: dict[str, list] = {}
        for lineno, record in read_jsonl(path, required={"task_id": str, "completion": str}):
            by_task.setdefault(record["task_id"], []).append(
                (record.get("sample", 0), record["completion"])
            )
        runs[path] = (settings, by_task, want)
    if runs[greedy][0].get("temperature", 0.0) != 0.0:
        raise InputError(
            f"{greedy}: its manifest says temperature {runs[greedy][0]['temperature']}, not a "
            "greedy run"
        )
    return runs


def task_pool(runs: dict, task_id: str) -> list[str]:
    """The greedy answer first, then the samples, as many as wanted from each run."""
    pool = []
    for path, (_, by_task, want) in runs.items():
        answers = [c for _, c in sorted(by_task.get(task_id, []))][:want]
        if len(answers) < want:
            raise InputError(f"{path}: {task_id} has {len(answers)} samples, {want} wanted")
        pool += answers
    return pool


def select_from_runs(
    greedy: Path,
    samples: Path,
    output: Path,
    candidates: int = config.CANDIDATES,
    inputs: int = config.MBR_INPUTS,
    workers: int = 2,
    *,
    cache_dir: Path,
) -> dict:
    """mbr-exec's choice over runs already generated: each task's greedy answer (a SAMPLES=1 run at
    temperature 0) and its first `candidates` samples (a SAMPLES=k run) -> one solution per task.
    The selection costs no request; the pool's generation time is the two runs' own (their
    manifests)."""
    runs = read_runs(greedy, samples, candidates)
    greedy_settings = runs[greedy][0]
    dataset = greedy_settings.get("dataset", DEFAULT)
    problems = load_problems(dataset, cache_dir)
    records, picked_greedy = [], 0
    with SandboxPool(workers, cache_dir) as sandbox:
        # a task's seed, as generation numbers it
        index_of = {task_id: i for i, task_id in enumerate(problems)}
        tasks = [t for t in problems if t in runs[greedy][1]]  # a LIMIT=n greedy run: its n tasks
        for task_id in tqdm(tasks, desc="select", unit="task"):
            pool = task_pool(runs, task_id)
            seed = request_seed(greedy_settings.get("seed", config.SEED), index_of[task_id], 0)
            pick, info = choose(
                visible_part(problems[task_id]), pool, sandbox, inputs=inputs, seed=seed
            )
            picked_greedy += pick == 0
            record = {
                "task_id": task_id,
                "sample": 0,
                "completion": pool[pick],
                "strategy": "mbr-exec",
            }
            records.append({**record, **record_fields(pick, pool, info)})
    write_jsonl_atomic(output, records)
    stats = {"tasks": len(records), "picked_greedy": picked_greedy}
    settings = {
        "strategy": "mbr-exec",
        "greedy": str(greedy),
        "samples": str(samples),
        "candidates": candidates,
    }
    settings.update(
        mbr_inputs=inputs, dataset=dataset, sources={str(p): s for p, (s, _, _) in runs.items()}
    )
    write_manifest(output, "select", settings, stats=stats)
    print(f"{output}: {len(records)} tasks, the greedy answer kept on {picked_greedy}", flush=True)
    return stats
