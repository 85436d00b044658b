"""Evaluate a solutions file against a dataset's hidden tests in the sandbox pool, resumably."""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import config
from .datasets import DEFAULT, Dataset
from .datasets import dataset as get_dataset
from .jobs import ExpectedOutputs, job_for, reference_sample
from .jsonl_io import (
    InputError,
    JsonlAppender,
    load_finished,
    read_jsonl,
    sample_keys,
    write_jsonl_atomic,
)
from .manifest import write_manifest
from .sandbox import wire
from .sandbox.pool import SandboxPool
from .selfcheck import SelfCheck


def read_samples(path: Path, problems: dict) -> list[dict]:
    """Samples in input order, each with its completion_id (jsonl_io.sample_keys)."""
    records = []
    for lineno, record in read_jsonl(path, required={"task_id": str}):
        if record["task_id"] not in problems:
            raise InputError(
                f"{path}:{lineno}: field 'task_id': unknown task {record['task_id']!r}"
            )
        if not isinstance(record.get("completion"), str) and not isinstance(
            record.get("solution"), str
        ):
            raise InputError(f"{path}:{lineno}: needs a string field 'completion' or 'solution'")
        records.append(record)
    keys = sample_keys(records)
    if len(set(keys)) != len(keys):
        raise InputError(f"{path}: two records share a task_id and 'sample' number")
    return [{**record, "completion_id": key[1]} for record, key in zip(records, keys)]


def read_done(path: Path, samples: list[dict]) -> dict[tuple, dict]:
    """Results already written by an earlier (possibly interrupted) run, keyed by (task_id,
    completion_id)."""
    wanted = {(s["task_id"], s["completion_id"]) for s in samples}

    def key(lineno: int, record: dict) -> tuple:
        k = (record["task_id"], record["completion_id"])
        if k not in wanted:
            raise InputError(
                f"{path}:{lineno}: result for {k} has no sample in the solutions file; it belongs "
                "to another run (use another RESULTS path or delete it)"
            )
        return k

    return load_finished(
        path,
        required={"task_id": str, "completion_id": int, "passed": bool},
        key=key,
        what="sample",
    )


def task_timeout(base: float, reference: dict, adaptive: bool) -> float:
    """A task's timeout at the speed the references were timed: the fixed one, raised for slow
    references."""
    if not adaptive or reference["result"] != "passed":
        return base
    return max(base, config.EVAL_TIME_FACTOR * reference["duration"])


@dataclass
class Judging:
    """One evaluation's setup: the dataset, its problems, and what the self-check found on this
    machine."""

    spec: Dataset
    problems: dict
    expected: ExpectedOutputs | None = None
    slowdown: float = 1.0
    timeouts: dict = field(default_factory=dict)
    broken: dict = field(default_factory=dict)  # task -> how its reference failed here
    timing: dict = field(default_factory=dict)
    layers: dict = field(default_factory=dict)

    def job(self, sample: dict) -> dict:
        return job_for(
            self.spec, self.problems[sample["task_id"]], sample, self.expected, self.slowdown
        )


def check_references(
    judging: Judging, pool, tasks: list[str], timeout: float | None, options: dict
) -> None:
    """Expected outputs (differential datasets), the machine's speed, each reference's verdict and
    time, and from them each task's timeout. Adaptive: the references get all the time they need, to
    be measured. Fixed: the candidates' timeout, so that a timeout too short for this machine shows
    as references failing."""
    spec, adaptive = judging.spec, timeout is None
    base_timeout = timeout or spec.timeout
    if spec.differential:
        judging.expected = ExpectedOutputs(judging.problems, spec, options["expected_cache"])
        judging.expected.ensure(pool, tasks)
    identity = {
        "timeout": base_timeout,
        "adaptive": adaptive,
        "memory_bytes": options["memory_bytes"],
    }
    check = SelfCheck(spec.name, judging.problems, identity, options["selfcheck_cache"])
    judging.slowdown = check.measure_speed(pool) if adaptive else 1.0  # fixed timeouts stay fixed
    references = check.references(
        pool,
        tasks,
        lambda p: job_for(spec, p, reference_sample(p), judging.expected, judging.slowdown),
        config.REFERENCE_TIMEOUT if adaptive else base_timeout,
    )
    judging.broken = {t: v["result"] for t, v in references.items() if v["result"] != "passed"}
    for task_id, result in judging.broken.items():
        print(
            f"INFRASTRUCTURE FAILURE: {task_id}: the reference solution does not pass here "
            f"({result}); its samples are not judged",
            file=sys.stderr,
        )
    judging.timeouts = {
        t: round(task_timeout(base_timeout, references[t], adaptive) * judging.slowdown, 3)
        for t in tasks
    }
    judging.timing = {
        "mode": "adaptive" if adaptive else "fixed",
        "base_seconds": base_timeout,
        "factor": config.EVAL_TIME_FACTOR if adaptive else None,
        "slowdown": round(judging.slowdown, 3),
        "calibration_seconds": check.calibration_seconds,
        "raised": {t: v for t, v in judging.timeouts.items() if v != base_timeout},
    }


def unanswered_samples(pending: list[dict]) -> dict[tuple, str]:
    """Samples the server never answered (generation_error): infrastructure, named on stderr."""
    unanswered = {(s["task_id"], s["completion_id"]): s.get("generation_error") for s in pending}
    unanswered = {key: why for key, why in unanswered.items() if why}
    for (task_id, sample), why in sorted(unanswered.items()):
        print(
            f"INFRASTRUCTURE FAILURE: {task_id} sample {sample} was never answered: {why[:300]}",
            file=sys.stderr,
        )
    return unanswered


def verdict_record(task_id: str, completion_id: int, verdict: dict, infrastructure: bool) -> dict:
    passed = verdict["result"] == "passed"
    # set by the pool or worker, never by a candidate
    flagged = verdict.pop("infrastructure", False)
    category = "infrastructure" if infrastructure or flagged else ("passed" if passed else "model")
    return {
        "task_id": task_id,
        "completion_id": completion_id,
        "passed": passed,
        **verdict,
        "category": category,
    }


def judge_pending(
    judging: Judging, pending: list[dict], results: Path, done: dict, options: dict
) -> None:
    """Judge every pending sample in the sandbox pool, appending each verdict to results as it
    comes."""
    workers, memory_bytes, verbose = options["workers"], options["memory_bytes"], options["verbose"]
    with (
        SandboxPool(workers, options["cache_dir"], memory_bytes) as pool,
        JsonlAppender(results) as out,
    ):
        judging.layers = pool.layers
        for warning in pool.warnings:
            print(f"WARNING: {warning}", file=sys.stderr)
        tasks = list(dict.fromkeys(s["task_id"] for s in pending))
        check_references(judging, pool, tasks, options["timeout"], options)
        unanswered = unanswered_samples(pending)
        keys = [(s["task_id"], s["completion_id"]) for s in pending]
        jobs = ((key, judging.job(s), judging.timeouts[key[0]]) for key, s in zip(keys, pending))
        with tqdm(
            total=len(pending), desc=f"eval {judging.spec.name}", unit="sample", disable=verbose
        ) as bar:
            for (task_id, completion_id), verdict in pool.run(jobs):
                infrastructure = task_id in judging.broken or (task_id, completion_id) in unanswered
                record = verdict_record(task_id, completion_id, verdict, infrastructure)
                done[(task_id, completion_id)] = record
                out.write(record)
                if verbose:
                    print(f"Evaluating task {task_id}... {verdict['result']}", flush=True)
                bar.update()


def unjudged_tasks(ordered: list[dict], order: dict) -> list[str]:
    unjudged = sorted(
        {r["task_id"] for r in ordered if r.get("category") == "infrastructure"}, key=order.get
    )
    if unjudged:
        print(
            f"WARNING: {len(unjudged)} tasks could not be judged on this machine (infrastructure, "
            f"not the model): {', '.join(unjudged[:10])}{' ...' if len(unjudged) > 10 else ''}",
            file=sys.stderr,
        )
    return unjudged


def evaluate(
    solutions: Path,
    results: Path,
    *,
    cache_dir: Path,
    dataset: str = DEFAULT,
    timeout: float | None = None,
    workers: int | None = None,
    memory_bytes: int = config.SANDBOX_MEMORY_BYTES,
    verbose: bool = False,
    expected_cache: Path | None = None,
    selfcheck_cache: Path | None = None,
    problems: dict | None = None,
) -> list[dict]:
    """Verdicts for every sample of solutions (resuming results), in dataset order, each with its
    category (passed, model, infrastructure; see selfcheck.py). cache_dir: the run's cache
    (datasets; hidden from the candidates). timeout: a fixed timeout per sample instead of the
    adaptive ones. expected_cache / selfcheck_cache: where expected outputs (differential datasets)
    and the reference self-check are cached (default: in cache_dir). problems: instead of the
    dataset's."""
    spec = get_dataset(dataset)
    judging = Judging(spec, problems or spec.load(cache_dir))
    samples = read_samples(solutions, judging.problems)
    done = read_done(results, samples)
    pending = [s for s in samples if (s["task_id"], s["completion_id"]) not in done]
    if done:
        print(f"{results}: {len(done)} results already there, {len(pending)} samples to go")
    workers = workers or config.cores()
    start = time.time()
    if pending:
        options = {
            "workers": workers,
            "memory_bytes": memory_bytes,
            "verbose": verbose,
            "timeout": timeout,
            "cache_dir": cache_dir,
            "expected_cache": expected_cache or cache_dir / "expected_outputs",
            "selfcheck_cache": selfcheck_cache or cache_dir / "selfcheck",
        }
        judge_pending(judging, pending, results, done, options)
    order = {task_id: n for n, task_id in enumerate(judging.problems)}
    ordered = sorted(done.values(), key=lambda r: (order[r["task_id"]], r["completion_id"]))
    write_jsonl_atomic(results, ordered)
    unjudged = unjudged_tasks(ordered, order)
    if pending:
        elapsed = time.time() - start
        print(f"evaluated {len(pending)} samples in {elapsed:.1f}s with {workers} workers")
        settings = {"dataset": dataset, "solutions": str(solutions), "workers": workers}
        settings["memory_bytes"] = memory_bytes
        stats = {"samples": len(ordered), "evaluated_now": len(pending)}
        stats.update(wall_seconds=round(elapsed, 2), passed=sum(r["passed"] for r in ordered))
        stats["infrastructure_tasks"] = unjudged
        write_eval_manifest(results, judging, settings, stats)
    return ordered


def write_eval_manifest(results: Path, judging: Judging, settings: dict, stats: dict) -> None:
    settings = {
        **settings,
        "timeout": judging.timing,
        "sandbox": "judge/candidate split, wire " + wire.FORMAT,
    }
    if judging.spec.differential:
        limit = f"max({config.PLUS_MIN_TIME} s, {config.PLUS_TIME_FACTOR} x reference) x slowdown"
        settings["per_input_time_limit"] = limit
    write_manifest(
        results,
        "evaluate",
        settings,
        stats=stats,
        reference_failures=judging.broken,
        sandbox_layers=judging.layers,
    )
