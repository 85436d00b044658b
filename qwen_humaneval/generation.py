"""Generate solutions for every (task, sample) over HTTP, many requests in flight, resumably."""

import json
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from . import config, strategies
from .client import ChatClient, PromptTooLong, ServerError, server_info
from .datasets import DEFAULT, REGISTRY, load_problems
from .jsonl_io import InputError, JsonlAppender, load_finished, write_jsonl_atomic
from .manifest import read_manifest, write_manifest
from .sandbox.pool import SandboxPool
from .settings import Settings

# Settings that change what a solution is: resuming under different ones would mix two runs.
IDENTITY = (
    "dataset",
    "strategy",
    "model",
    "samples",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "style",
    "stops",
    "repair_rounds",
    "candidates",
    "codet_tests",
    "candidate_temperature",
    "mbr_inputs",
)


def visible_part(problem: dict) -> dict:
    """What a strategy may see: the prompt and the function's name. Tests and reference solution stay out."""
    return {"task_id": problem["task_id"], "prompt": problem["prompt"], "entry_point": problem["entry_point"]}


def request_seed(base_seed: int, task_index: int, sample: int) -> int:
    return base_seed + 1000 * task_index + sample


def read_finished(path: Path, problems: dict, samples: int) -> dict[tuple, dict]:
    def key(lineno: int, record: dict) -> tuple:
        if record["task_id"] not in problems:
            raise InputError(f"{path}:{lineno}: field 'task_id': unknown task {record['task_id']!r}")
        if not 0 <= record["sample"] < samples:
            raise InputError(f"{path}:{lineno}: field 'sample': {record['sample']} is outside 0..{samples - 1}")
        return record["task_id"], record["sample"]

    return load_finished(path, required={"task_id": str, "sample": int, "completion": str}, key=key, what="sample")


def check_resumable(output: Path, previous: dict | None, settings: dict) -> None:
    """Refuse to append to a file generated with other identity settings (previous: its manifest)."""
    if not previous:
        return
    old = previous.get("settings", {})
    now = json.loads(json.dumps(settings, default=str))  # as the manifest holds them (tuples become lists)
    changed = [k for k in IDENTITY if k in old and old.get(k) != now.get(k)]
    if changed:
        details = ", ".join(f"{k}: {old.get(k)!r} -> {settings.get(k)!r}" for k in changed)
        raise InputError(
            f"{output} was generated with other settings ({details}); choose another OUTPUT or delete it to start over"
        )


class _Clock:
    """Time spent on one output over every resumed run, written into its manifest at each change of status."""

    def __init__(self, output: Path, settings: dict, earlier_seconds: float):
        self.output, self.settings, self.earlier = output, settings, earlier_seconds
        self.start = time.time()

    def elapsed(self) -> float:
        return time.time() - self.start

    def mark(self, status: str, samples: int) -> None:
        spent = {"samples": samples, "wall_seconds_total": round(self.earlier + self.elapsed(), 1)}
        write_manifest(self.output, "generate", self.settings, status=status, stats=spent)


def _run_all(
    todo: list[tuple], work, concurrency: int, output: Path, done: dict, *, verbose: bool, desc: str, stop=None
):
    """Keep `concurrency` items (task_id, samples) in flight and append each finished record. Returns the
    first server error (after which nothing new starts and the items in flight finish), or None. On Ctrl-C,
    stop() cancels the requests in flight, so the run ends now rather than when their answers come."""
    error = None
    with (
        JsonlAppender(output) as out,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=sum(len(samples) for _, samples in todo), desc=desc, unit="sample", disable=verbose) as bar,
    ):
        pending = iter(todo)
        running = {}

        def submit_next() -> None:
            item = next(pending, None)
            if item is not None:
                running[pool.submit(work, *item)] = item

        for _ in range(concurrency):
            submit_next()
        try:
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future)
                    try:
                        records = future.result()
                    except ServerError as e:
                        error = error or e
                        continue
                    for record in records:
                        out.write(record)
                        done[(record["task_id"], record["sample"])] = record
                        if verbose:
                            print(f"Task ID: {record['task_id']}\n{record['completion']}", flush=True)
                    bar.set_postfix(tokens=sum(r.get("completion_tokens", 0) for r in done.values()), refresh=False)
                    bar.update(len(records))
                    if error is None:
                        submit_next()
        except KeyboardInterrupt:
            for future in running:
                future.cancel()
            if stop is not None:
                stop()
            raise
    return error


def _stats(ordered: list[dict], generated_now: int, clock: _Clock) -> dict:
    elapsed = clock.elapsed()
    return {
        "samples": len(ordered),
        "generated_now": generated_now,
        "wall_seconds": round(elapsed, 1),
        "wall_seconds_total": round(clock.earlier + elapsed, 1),  # over every resumed run
        "prompt_tokens": sum(r.get("prompt_tokens", 0) for r in ordered),
        "completion_tokens": sum(r.get("completion_tokens", 0) for r in ordered),
        "truncated": sum(r.get("finish_reason") == "length" for r in ordered),
    }


@dataclass
class TaskSolver:
    """Solves the samples of one task at a time, for the thread pool: one request with `n` when the strategy
    allows it. Sample s is always drawn with seed request_seed(s), so a resumed run asks for the same samples."""

    problems: dict
    client: ChatClient
    strategy: str
    sampling: strategies.Sampling
    together: bool
    sandbox: SandboxPool | None = None

    def __post_init__(self):
        self.chosen = strategies.get(self.strategy)
        self.task_index = {task_id: n for n, task_id in enumerate(self.problems)}

    def __call__(self, task_id: str, group: tuple[int, ...]) -> list[dict]:
        seeds = [request_seed(self.sampling.seed, self.task_index[task_id], s) for s in group]
        problem = visible_part(self.problems[task_id])
        try:
            records = self.solve(problem, group, seeds)
        except PromptTooLong as e:  # kept, with its reason: evaluation counts it as infrastructure, not the model
            records = [{"completion": "", "generation_error": str(e)} for _ in group]
        except ServerError as e:
            if not self.client.alive():
                raise  # the server is gone: stop, keep what is done, resume later
            # The server lives but this task failed every retry: an infrastructure failure of its own, named,
            # out of the score, and generated again by the next run (retryable).
            records = [{"completion": "", "generation_error": str(e), "retryable": True} for _ in group]
        return [
            {"task_id": task_id, "sample": s, "seed": seed, "strategy": self.strategy, **record}
            for s, seed, record in zip(group, seeds, records)
        ]

    def solve(self, problem: dict, group: tuple[int, ...], seeds: list[int]) -> list[dict]:
        chosen, client, sampling = self.chosen, self.client, self.sampling
        if len(group) > 1 and group == tuple(range(group[0], group[0] + len(group))):
            return chosen.solve_samples(problem, client, sampling, seeds[0], len(group))
        if self.together:
            return [chosen.solve_samples(problem, client, sampling, seed, 1)[0] for seed in seeds]
        return [chosen.solve(problem, client, sampling, seed, self.sandbox) for seed in seeds]


def pending_samples(output: Path, problems: dict, samples: int, together: bool) -> tuple[dict, list]:
    """What an earlier run left (samples that failed on a live server are taken out, to be asked again), and
    the (task, samples) groups still to generate: one group per task when they go out in one request."""
    done = read_finished(output, problems, samples)
    retry = [k for k, r in done.items() if r.get("retryable")]
    if retry:
        for k in retry:
            del done[k]
        write_jsonl_atomic(output, sorted(done.values(), key=lambda r: (r["task_id"], r["sample"])))
        print(f"{output}: {len(retry)} samples that failed on the server last time are asked again")
    missing = {t: tuple(s for s in range(samples) if (t, s) not in done) for t in problems}
    todo = [
        (t, group) for t, left in missing.items() if left for group in ([left] if together else [(s,) for s in left])
    ]
    if done:
        print(f"{output}: {len(done)} samples already there, {len(todo)} to go")
    return done, todo


def generate(
    problems: dict,
    client: ChatClient,
    output: Path,
    *,
    strategy: str,
    sampling: strategies.Sampling,
    samples: int = 1,
    concurrency: int = 4,
    verbose: bool = False,
    recorded: dict | None = None,
    cache_dir: Path | None = None,
) -> dict:
    """Every (task, sample) of problems into output, resuming what an earlier run left; returns the stats. recorded:
    the run's settings (a resumed run must match); cache_dir: hidden from the sandbox strategies may need."""
    settings = dict(recorded or {})
    previous = read_manifest(output) if output.exists() else None
    check_resumable(output, previous, settings)
    together = strategies.get(strategy).solve_samples is not None and sampling.one_prefill
    done, todo = pending_samples(output, problems, samples, together)
    clock = _Clock(output, settings, ((previous or {}).get("stats") or {}).get("wall_seconds_total", 0.0))
    clock.mark("running", len(done))
    solver = TaskSolver(problems, client, strategy, sampling, together)
    if solver.chosen.needs_sandbox and todo:
        solver.sandbox = SandboxPool(config.cores(), cache_dir)  # refuses a None cache_dir
    try:
        error = _run_all(
            todo,
            solver,
            concurrency,
            output,
            done,
            verbose=verbose,
            desc=f"generate {strategy}",
            stop=getattr(client, "cancel_all", None),  # a client that cannot cancel is waited for
        )
    except KeyboardInterrupt:
        clock.mark("interrupted", len(done))  # so that the resumed run's wall_seconds_total counts this part
        print(f"\ninterrupted: {len(done)} samples kept in {output}; run again to resume", file=sys.stderr)
        raise
    finally:
        if solver.sandbox is not None:
            solver.sandbox.close()
    if error is not None:
        clock.mark("failed", len(done))
        raise ServerError(f"{error}. {len(done)} samples kept in {output}; run again to resume")
    ordered = sorted(done.values(), key=lambda r: (solver.task_index[r["task_id"]], r["sample"]))
    write_jsonl_atomic(output, ordered)
    stats = _stats(ordered, len(todo), clock)
    stats["failed_requests"] = len(getattr(client, "failed_attempts", []))  # retried, cancelled or given up
    failed = sorted({r["task_id"] for r in ordered if r.get("retryable")}, key=solver.task_index.get)
    if failed:
        stats["generation_failures"] = failed
        print(
            f"WARNING: {len(failed)} tasks could not be generated after every retry (the server lives; infrastructure, "
            f"left out of the score; the next run asks again): {', '.join(failed)}",
            file=sys.stderr,
        )
    return stats


def unseen_problems(problems: dict, launch: dict | None, cache_dir: Path) -> tuple[dict, dict | None]:
    """The contamination guard: a served model with a fine-tuning record (finetune.py writes it beside the
    GGUF) is never asked the tasks it was trained on (same task ids: MBPP+ shares MBPP's). Returns the
    problems left, and what was left out and why (None when nothing was)."""
    record = read_manifest(Path(launch["model_file"])) if launch and launch.get("model_file") else None
    trained_on = ((record or {}).get("settings") or {}).get("train_dataset")
    if not trained_on:
        return problems, None
    training = load_problems(trained_on, cache_dir)
    seen = [task_id for task_id in problems if task_id in training]
    if not seen:
        return problems, None
    why = f"the model was fine-tuned on {trained_on}, which holds them"
    print(f"contamination guard: {len(seen)} of {len(problems)} tasks left out: {why}", file=sys.stderr)
    return {t: p for t, p in problems.items() if t not in seen}, {"tasks": seen, "why": why}


GENERATION_DATASETS = tuple(name for name, d in REGISTRY.items() if d.generated)  # HumanEval+ judges HumanEval's


def run_generation(
    base_urls: list[str],
    settings: Settings,
    output: Path,
    *,
    strategy: str,
    sampling: strategies.Sampling,
    samples: int = 1,
    limit: int = 0,
    concurrency: int = 0,
    verbose: bool = False,
    dataset: str = DEFAULT,
) -> dict:
    """`make generate`: ask the servers for settings.model's answers to every (task, sample) of dataset, into
    output; write the manifest. The server's launch record (settings.output_dir/server.json) is read when there."""
    try:
        servers = [server_info(u) for u in base_urls]
    except ServerError as e:
        raise ServerError(f"{e} (start one with `make serve`, or set BASE_URL)") from None
    concurrency = concurrency or sum(s.get("total_slots") or config.SLOTS for s in servers)
    facts = {"servers": servers}
    launch = settings.output_dir / "server.json"
    if launch.exists():
        facts["server_launch"] = json.loads(launch.read_text())
    problems = load_problems(dataset, settings.cache_dir)
    problems, left_out = unseen_problems(problems, facts.get("server_launch"), settings.cache_dir)
    if limit:
        problems = dict(list(problems.items())[:limit])
    recorded = {
        "dataset": dataset,
        "strategy": strategy,
        "model": settings.model,
        "samples": samples,
        "tasks": len(problems),
        "concurrency": concurrency,
        "base_urls": base_urls,
        **vars(sampling),
        **({"left_out": left_out} if left_out else {}),
    }
    max_n = min((s["total_slots"] for s in servers if s.get("total_slots")), default=samples)
    stats = generate(
        problems,
        ChatClient(base_urls, settings.model, max_n=max_n),
        output,
        strategy=strategy,
        sampling=sampling,
        samples=samples,
        concurrency=concurrency,
        verbose=verbose,
        recorded=recorded,
        cache_dir=settings.cache_dir,
    )
    status = "complete" if not stats.get("generation_failures") else "complete but for generation failures"
    write_manifest(output, "generate", recorded, status=status, stats=stats, **facts)
    return stats
