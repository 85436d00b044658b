"""Generate solutions for every (task, sample) over HTTP, many requests in flight, resumably."""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from . import config, strategies
from .client import ChatClient, PromptTooLong, ServerError, server_info
from .datasets import DEFAULT, REGISTRY, load_problems
from .jsonl_io import write_jsonl_atomic
from .manifest import read_manifest, write_manifest
from .resumable import Clock, check_resumable, pending_samples, run_in_flight, run_stats
from .sandbox.pool import SandboxPool
from .settings import Settings


def visible_part(problem: dict) -> dict:
    """What a strategy may see: the prompt and the function's name. Tests and reference solution
    stay out."""
    return {
        "task_id": problem["task_id"],
        "prompt": problem["prompt"],
        "entry_point": problem["entry_point"],
    }


def request_seed(base_seed: int, task_index: int, sample: int) -> int:
    return base_seed + 1000 * task_index + sample


@dataclass
class TaskSolver:
    """Solves the samples of one task at a time, for the thread pool: one request with `n` when the
    strategy allows it. Sample s is always drawn with seed request_seed(s), so a resumed run asks
    for the same samples."""

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
        except PromptTooLong as e:
            # kept, with its reason: evaluation counts it as infrastructure, not the model
            records = [{"completion": "", "generation_error": str(e)} for _ in group]
        except ServerError as e:
            if not self.client.alive():
                raise  # the server is gone: stop, keep what is done, resume later
            # The server lives but this task failed every retry: an infrastructure failure of its
            # own, named, out of the score, and generated again by the next run (retryable).
            records = [
                {"completion": "", "generation_error": str(e), "retryable": True} for _ in group
            ]
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
    """Every (task, sample) of problems into output, resuming what an earlier run left; returns the
    stats. recorded: the run's settings (a resumed run must match); cache_dir: hidden from the
    sandbox strategies may need."""
    settings = dict(recorded or {})
    previous = read_manifest(output) if output.exists() else None
    check_resumable(output, previous, settings)
    together = strategies.get(strategy).solve_samples is not None and sampling.one_prefill
    done, todo = pending_samples(output, problems, samples, together)
    clock = Clock(
        output, settings, ((previous or {}).get("stats") or {}).get("wall_seconds_total", 0.0)
    )
    clock.mark("running", len(done))
    solver = TaskSolver(problems, client, strategy, sampling, together)
    if solver.chosen.needs_sandbox and todo:
        solver.sandbox = SandboxPool(config.cores(), cache_dir)  # refuses a None cache_dir
    try:
        error = run_in_flight(
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
        # so that the resumed run's wall_seconds_total counts this part
        clock.mark("interrupted", len(done))
        print(
            f"\ninterrupted: {len(done)} samples kept in {output}; run again to resume",
            file=sys.stderr,
        )
        raise
    finally:
        if solver.sandbox is not None:
            solver.sandbox.close()
    if error is not None:
        clock.mark("failed", len(done))
        raise ServerError(f"{error}. {len(done)} samples kept in {output}; run again to resume")
    return final_stats(output, done, len(todo), clock, solver.task_index, client)


def final_stats(output: Path, done: dict, generated_now: int, clock, order: dict, client) -> dict:
    """The finished run in task order into output; its stats, naming the tasks the server failed."""
    ordered = sorted(done.values(), key=lambda r: (order[r["task_id"]], r["sample"]))
    write_jsonl_atomic(output, ordered)
    stats = run_stats(ordered, generated_now, clock)
    # retried, cancelled or given up
    stats["failed_requests"] = len(getattr(client, "failed_attempts", []))
    failed = sorted({r["task_id"] for r in ordered if r.get("retryable")}, key=order.get)
    if failed:
        stats["generation_failures"] = failed
        print(
            f"WARNING: {len(failed)} tasks could not be generated after every retry (the server "
            "lives; infrastructure, left out of the score; the next run asks again): "
            f"{', '.join(failed)}",
            file=sys.stderr,
        )
    return stats


def unseen_problems(
    problems: dict, launch: dict | None, cache_dir: Path
) -> tuple[dict, dict | None]:
    """The contamination guard: a served model with a fine-tuning record (finetune.py writes it
    beside the GGUF) is never asked the tasks it was trained on (same task ids: MBPP+ shares
    MBPP's). Returns the problems left, and what was left out and why (None when nothing was)."""
    record = (
        read_manifest(Path(launch["model_file"])) if launch and launch.get("model_file") else None
    )
    trained_on = ((record or {}).get("settings") or {}).get("train_dataset")
    if not trained_on:
        return problems, None
    training = load_problems(trained_on, cache_dir)
    seen = [task_id for task_id in problems if task_id in training]
    if not seen:
        return problems, None
    why = f"the model was fine-tuned on {trained_on}, which holds them"
    print(
        f"contamination guard: {len(seen)} of {len(problems)} tasks left out: {why}",
        file=sys.stderr,
    )
    return {t: p for t, p in problems.items() if t not in seen}, {"tasks": seen, "why": why}


# HumanEval+ judges HumanEval's
GENERATION_DATASETS = tuple(name for name, d in REGISTRY.items() if d.generated)


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
    """`make generate`: ask the servers for settings.model's answers to every (task, sample) of
    dataset, into output; write the manifest. The server's launch record
    (settings.output_dir/server.json) is read when there."""
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
    status = (
        "complete"
        if not stats.get("generation_failures")
        else "complete but for generation failures"
    )
    write_manifest(output, "generate", recorded, status=status, stats=stats, **facts)
    return stats
