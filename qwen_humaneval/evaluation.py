"""Evaluate a solutions file against a dataset's hidden tests in the sandbox pool, resumably."""

import sys
import time
from pathlib import Path

from tqdm import tqdm

from . import config
from .datasets import load_problems
from .jobs import ExpectedOutputs, job_for, reference_sample
from .jsonl_io import InputError, JsonlAppender, load_finished, read_jsonl, sample_keys, write_jsonl_atomic
from .manifest import write_manifest
from .sandbox import wire
from .sandbox.pool import SandboxPool
from .selfcheck import SelfCheck


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
            raise InputError(
                f"{path}:{lineno}: result for {k} has no sample in the solutions file; "
                "it belongs to another run (use another RESULTS path or delete it)"
            )
        return k

    return load_finished(path, required={"task_id": str, "completion_id": int, "passed": bool}, key=key, what="sample")


def task_timeout(base: float, reference: dict, adaptive: bool) -> float:
    """A task's timeout at the speed the references were timed: the fixed one, raised for slow references."""
    if not adaptive or reference["result"] != "passed":
        return base
    return max(base, config.EVAL_TIME_FACTOR * reference["duration"])


def evaluate(
    solutions: Path,
    results: Path,
    *,
    dataset: str = "humaneval",
    timeout: float | None = None,
    workers: int | None = None,
    memory_bytes: int = config.SANDBOX_MEMORY_BYTES,
    verbose: bool = False,
    expected_cache: Path | None = None,
    selfcheck_cache: Path | None = None,
    problems: dict | None = None,
) -> list[dict]:
    """Verdicts for every sample of solutions (resuming results), in dataset order, each with its
    category (passed, model, infrastructure; see selfcheck.py). timeout: a fixed timeout per sample
    instead of the adaptive ones. expected_cache / selfcheck_cache: where HumanEval+'s expected outputs
    and the reference self-check are cached (default: in the cache directory). problems: instead of the dataset's."""
    problems = problems or load_problems(dataset)
    samples = read_samples(solutions, problems)
    done = read_done(results, samples)
    pending = [s for s in samples if (s["task_id"], s["completion_id"]) not in done]
    if done:
        print(f"{results}: {len(done)} results already there, {len(pending)} samples to go")
    workers = workers or config.cores()
    adaptive = timeout is None
    base_timeout = timeout or config.EVAL_TIMEOUTS[dataset]
    start = time.time()
    layers, timing, broken = {}, {}, {}
    if pending:
        with SandboxPool(workers, memory_bytes=memory_bytes) as pool, JsonlAppender(results) as out:
            layers = pool.layers
            for warning in pool.warnings:
                print(f"WARNING: {warning}", file=sys.stderr)
            expected = None
            tasks = list(dict.fromkeys(s["task_id"] for s in pending))
            if dataset == "humanevalplus":
                expected = ExpectedOutputs(problems, expected_cache)
                expected.ensure(pool, tasks)
            check = SelfCheck(
                dataset,
                problems,
                {"timeout": base_timeout, "adaptive": adaptive, "memory_bytes": memory_bytes},
                selfcheck_cache,
            )
            slowdown = check.measure_speed(pool) if adaptive else 1.0  # fixed timeouts stay fixed
            # Adaptive: the references get all the time they need, to be measured. Fixed: the candidates' timeout,
            # so that a timeout too short for this machine shows as the references failing.
            references = check.references(
                pool,
                tasks,
                lambda p: job_for(dataset, p, reference_sample(p), expected, slowdown),
                config.REFERENCE_TIMEOUT if adaptive else base_timeout,
            )
            broken = {t: v["result"] for t, v in references.items() if v["result"] != "passed"}
            for task_id, result in broken.items():
                print(
                    f"INFRASTRUCTURE FAILURE: {task_id}: the reference solution does not pass here ({result}); "
                    "its samples are not judged",
                    file=sys.stderr,
                )
            timeouts = {t: round(task_timeout(base_timeout, references[t], adaptive) * slowdown, 3) for t in tasks}
            timing = {
                "mode": "adaptive" if adaptive else "fixed",
                "base_seconds": base_timeout,
                "factor": config.EVAL_TIME_FACTOR if adaptive else None,
                "slowdown": round(slowdown, 3),
                "calibration_seconds": check.calibration_seconds,
                "raised": {t: v for t, v in timeouts.items() if v != base_timeout},
            }
            unanswered = {
                (s["task_id"], s["completion_id"]): s["generation_error"] for s in pending if s.get("generation_error")
            }
            for (task_id, completion_id), why in sorted(unanswered.items()):
                print(
                    f"INFRASTRUCTURE FAILURE: {task_id} sample {completion_id} was never answered: {why[:300]}",
                    file=sys.stderr,
                )
            jobs = (
                (
                    (s["task_id"], s["completion_id"]),
                    job_for(dataset, problems[s["task_id"]], s, expected, slowdown),
                    timeouts[s["task_id"]],
                )
                for s in pending
            )
            with tqdm(total=len(pending), desc=f"eval {dataset}", unit="sample", disable=verbose) as bar:
                for (task_id, completion_id), verdict in pool.run(jobs):
                    passed = verdict["result"] == "passed"
                    flagged = verdict.pop("infrastructure", False)  # set by the pool or worker, never by a candidate
                    infrastructure = task_id in broken or flagged or (task_id, completion_id) in unanswered
                    record = {
                        "task_id": task_id,
                        "completion_id": completion_id,
                        "passed": passed,
                        **verdict,
                        "category": "infrastructure" if infrastructure else ("passed" if passed else "model"),
                    }
                    out.write(record)
                    done[(task_id, completion_id)] = record
                    if verbose:
                        print(f"Evaluating task {task_id}... {verdict['result']}", flush=True)
                    bar.update()
    order = {task_id: n for n, task_id in enumerate(problems)}
    ordered = sorted(done.values(), key=lambda r: (order[r["task_id"]], r["completion_id"]))
    write_jsonl_atomic(results, ordered)
    elapsed = time.time() - start
    unjudged = sorted({r["task_id"] for r in ordered if r.get("category") == "infrastructure"}, key=order.get)
    if unjudged:
        print(
            f"WARNING: {len(unjudged)} tasks could not be judged on this machine (infrastructure, not the model): "
            f"{', '.join(unjudged[:10])}{' ...' if len(unjudged) > 10 else ''}",
            file=sys.stderr,
        )
    if pending:
        print(f"evaluated {len(pending)} samples in {elapsed:.1f}s with {workers} workers")
        write_manifest(
            results,
            "evaluate",
            {
                "dataset": dataset,
                "solutions": str(solutions),
                "timeout": timing,
                "workers": workers,
                "memory_bytes": memory_bytes,
                "sandbox": "judge/candidate split, wire " + wire.FORMAT,
                **(
                    {
                        "per_input_time_limit": f"max({config.PLUS_MIN_TIME} s, {config.PLUS_TIME_FACTOR} x reference)"
                        " x slowdown"
                    }
                    if dataset == "humanevalplus"
                    else {}
                ),
            },
            stats={
                "samples": len(ordered),
                "evaluated_now": len(pending),
                "wall_seconds": round(elapsed, 2),
                "passed": sum(r["passed"] for r in ordered),
                "infrastructure_tasks": unjudged,
            },
            reference_failures=broken,
            sandbox_layers=layers,
        )
    return ordered
