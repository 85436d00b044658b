"""Evaluate a solutions file against a dataset's hidden tests in the sandbox pool, resumably."""
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from . import config
from .datasets import load_problems
from .jsonl_io import InputError, JsonlAppender, load_finished, read_jsonl, sample_keys, write_jsonl_atomic
from .manifest import write_manifest
from .jobs import ExpectedOutputs, job_for
from .sandbox import wire
from .sandbox.pool import SandboxPool


def read_samples(path: Path, problems: dict) -> list[dict]:
    """Samples in input order, each with its completion_id (jsonl_io.sample_keys)."""
    records = []
    for lineno, record in read_jsonl(path, required={"task_id": str}):
        if record["task_id"] not in problems:
            raise InputError(f"{path}:{lineno}: field 'task_id': unknown task {record['task_id']!r}")
        if not isinstance(record.get("completion"), str) and not isinstance(record.get("solution"), str):
            raise InputError(f"{path}:{lineno}: needs a string field 'completion' or 'solution'")
        records.append(record)
    keys = sample_keys(records)
    if len(set(keys)) != len(keys):
        raise InputError(f"{path}: two records share a task_id and 'sample' number")
    return [{**record, "completion_id": key[1]} for record, key in zip(records, keys)]


def read_done(path: Path, samples: list[dict]) -> dict[tuple, dict]:
    """Results already written by an earlier (possibly interrupted) run, keyed by (task_id, completion_id)."""
    wanted = {(s["task_id"], s["completion_id"]) for s in samples}

    def key(lineno: int, record: dict) -> tuple:
        k = (record["task_id"], record["completion_id"])
        if k not in wanted:
            raise InputError(f"{path}:{lineno}: result for {k} has no sample in the solutions file; "
                             "it belongs to another run (use another RESULTS path or delete it)")
        return k

    return load_finished(path, required={"task_id": str, "completion_id": int, "passed": bool}, key=key, what="sample")


def evaluate(solutions: Path, results: Path, *, dataset: str = "humaneval", timeout: float | None = None,
             workers: int | None = None, memory_bytes: int = config.SANDBOX_MEMORY_BYTES, verbose: bool = False,
             expected_cache: Path | None = None) -> list[dict]:
    """Verdicts for every sample of solutions (resuming results), in dataset order. expected_cache:
    where HumanEval+'s expected outputs are cached (default: in the cache directory)."""
    problems = load_problems(dataset)
    samples = read_samples(solutions, problems)
    done = read_done(results, samples)
    pending = [s for s in samples if (s["task_id"], s["completion_id"]) not in done]
    if done:
        print(f"{results}: {len(done)} results already there, {len(pending)} samples to go")
    workers = workers or os.cpu_count() or 1
    timeout = timeout or config.EVAL_TIMEOUTS[dataset]
    start = time.time()
    layers = {}
    if pending:
        with SandboxPool(workers, memory_bytes=memory_bytes) as pool, JsonlAppender(results) as out:
            layers = pool.layers
            for warning in pool.warnings:
                print(f"WARNING: {warning}", file=sys.stderr)
            expected = None
            if dataset == "humanevalplus":
                expected = ExpectedOutputs(problems, expected_cache)
                expected.ensure(pool, [s["task_id"] for s in pending])
            jobs = (((s["task_id"], s["completion_id"]), job_for(dataset, problems[s["task_id"]], s, expected)) for s in pending)
            with tqdm(total=len(pending), desc=f"eval {dataset}", unit="sample", disable=verbose) as bar:
                for (task_id, completion_id), verdict in pool.run(jobs, timeout=timeout):
                    record = {"task_id": task_id, "completion_id": completion_id,
                              "passed": verdict["result"] == "passed", **verdict}
                    out.write(record)
                    done[(task_id, completion_id)] = record
                    if verbose:
                        print(f"Evaluating task {task_id}... {verdict['result']}", flush=True)
                    bar.update()
    order = {task_id: n for n, task_id in enumerate(problems)}
    ordered = sorted(done.values(), key=lambda r: (order[r["task_id"]], r["completion_id"]))
    write_jsonl_atomic(results, ordered)
    elapsed = time.time() - start
    if pending:
        print(f"evaluated {len(pending)} samples in {elapsed:.1f}s with {workers} workers")
        write_manifest(results, "evaluate",
                       {"dataset": dataset, "solutions": str(solutions), "timeout": timeout, "workers": workers,
                        "memory_bytes": memory_bytes, "sandbox": "judge/candidate split, wire " + wire.FORMAT,
                        **({"per_input_time_limit": f"max({config.PLUS_MIN_TIME} s, {config.PLUS_TIME_FACTOR} x reference)"}
                           if dataset == "humanevalplus" else {})},
                       stats={"samples": len(ordered), "evaluated_now": len(pending), "wall_seconds": round(elapsed, 2),
                              "passed": sum(r["passed"] for r in ordered)},
                       sandbox_layers=layers)
    return ordered
