"""Other votes and early stopping, replayed on a selection run's own pools (make bench-vote).

Each sampled pool's programs are run once (examples passed, outputs on the compared inputs: the
run's inputs and seed), then every rule picks from the same evidence:
- majority: the run's own vote (selection.tally and ranked);
- agreement: MBR with a per-input loss: each behaviour scores the candidates that agree with it,
  input by input (a behaviour that differs from a large one on one input keeps most of its votes);
- early stopping: the pool drawn in two rounds, the first `r` samples, then the rest unless the vote
  is settled (selection.settled: the filter at its top and a lead of `lead` candidates); and the
  literal rule, drawn one sample at a time and stopped when the leader cannot be overtaken.
Samples i are seed + i whether drawn in one request or two, so a stopped pool is the full pool's
first samples: the replay is what a live run with the same seeds would have picked. Every candidate
is judged on the hidden tests for the account only, after the choice.
"""

import functools
import sys
from pathlib import Path

from bench.common import load_average, publish, solutions_command
from bench.pool_ceiling import judge_candidates, pools
from qwen_humaneval import config
from qwen_humaneval.cli import handled
from qwen_humaneval.datasets import DEFAULT, load_problems, score_columns
from qwen_humaneval.generation import visible_part
from qwen_humaneval.manifest import read_manifest
from qwen_humaneval.sandbox.pool import SandboxPool
from qwen_humaneval.selection import evidence, ranked, settled, tally
from qwen_humaneval.settings import Settings

ROUNDS = ((3, 2), (3, 3), (4, 2), (4, 3), (4, 4), (5, 3))


def agreement(behaviours: dict) -> list[int]:
    """The behaviour most candidates agree with, input by input (ties as the vote breaks them)."""

    def share(a, b) -> float:
        if a == b:
            return 1.0
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and a:
            return sum(x == y for x, y in zip(a, b)) / len(a)
        return 0.0

    key_of = {tuple(members): key for key, members in behaviours.items()}  # members are disjoint
    order = ranked(behaviours)
    scores = [
        sum(len(other) * share(key_of[tuple(m)], k) for k, other in behaviours.items())
        for m in order
    ]
    return order[max(range(len(order)), key=lambda i: (round(scores[i], 9), -i))]


def stopped_at(found: list, examples: int, size: int, first: int, lead: int) -> int:
    """How many candidates a two-round draw keeps: 1 + first when the first round settles the vote,
    else all."""
    return min(1 + first, size) if settled(found, 1 + first, examples, lead) else size


def overtaken_stop(found: list, examples: int, size: int) -> int:
    """The candidates drawn one at a time until the leader cannot be overtaken by the rest."""
    for upto in range(2, size):
        if settled(found, upto, examples, size - upto + 1):
            return upto
    return size


def picks(found: list, examples: int, size: int) -> dict[str, tuple[int, int]]:
    """rule -> (the pick, candidates drawn)."""
    full = tally(found, size)
    chosen = {
        "majority (the run's vote)": (min(ranked(full)[0]), size),
        "agreement, input by input": (min(agreement(full)), size),
    }
    for first, lead in ROUNDS:
        upto = stopped_at(found, examples, size, first, lead)
        chosen[f"two rounds: {first} then the rest, settled at lead {lead}"] = (
            min(ranked(tally(found, upto))[0]),
            upto,
        )
    upto = overtaken_stop(found, examples, size)
    chosen["one at a time until the leader cannot be overtaken"] = (
        min(ranked(tally(found, upto))[0]),
        upto,
    )
    return chosen


def replay(
    settings: Settings, solutions: Path, workers: int | None = None, judges: tuple = ()
) -> list[dict]:
    """The table: right picks on each judging dataset (or judges) and samples drawn, per rule."""
    run = (read_manifest(solutions) or {}).get("settings") or {}
    dataset = run.get("dataset", DEFAULT)
    by_task = {t: p for t, p in pools(solutions).items() if len(p["candidates"]) > 1}
    workers = workers or config.cores()
    print(f"load average before: {load_average():.2f}; {solutions}: {len(by_task)} sampled pools")
    problems = load_problems(dataset, settings.cache_dir)
    inputs = run.get("mbr_inputs", config.MBR_INPUTS)
    chosen = {}
    with SandboxPool(workers, settings.cache_dir) as sandbox:
        for task, pool in by_task.items():
            problem = visible_part(problems[task])
            found, info = evidence(
                problem, pool["candidates"], sandbox, inputs, pool["seed"], every_program=True
            )
            chosen[task] = picks(found, info["examples"], len(pool["candidates"]))
    judges = [
        (title, spec)
        for title, spec, base_only in score_columns(dataset)
        if not base_only and (not judges or spec.name in judges)
    ]
    right = {title: judge_candidates(by_task, spec.name, settings.cache_dir, workers)
             for title, spec in judges}  # fmt: skip
    rules = list(next(iter(chosen.values()))) if chosen else []
    full = sum(len(p["candidates"]) - 1 for p in by_task.values())
    rows = []
    for rule in rules:
        row = {"rule": rule}
        for title, _ in judges:
            row[title] = sum(chosen[t][rule][0] in right[title][t] for t in by_task)
        drawn = sum(chosen[t][rule][1] - 1 for t in by_task)
        row.update(samples=drawn, saved=round(1 - drawn / full, 3) if full else 0.0)
        rows.append(row)
    titles = [title for title, _ in judges]
    lines = [
        f"{len(by_task)} sampled pools of {solutions}; right picks among them, samples drawn",
        "",
        "| rule | " + " | ".join(titles) + " | samples | saved |",
        "|---|" + "---|" * (len(titles) + 2),
    ]
    for row in rows:
        scores = " | ".join(str(row[t]) for t in titles)
        lines.append(f"| {row['rule']} | {scores} | {row['samples']} | {row['saved']:.1%} |")
    publish(f"bench_vote_{dataset}", lines, rows, settings.output_dir)
    return rows


@handled
def main() -> int:
    return solutions_command(__doc__, functools.partial(replay, Settings.from_environ()))


if __name__ == "__main__":
    sys.exit(main())
