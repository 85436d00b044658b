"""Where a selection run's points are left: every candidate of each pool judged, task by task
(make bench-ceiling).

For a finished mbr-exec or mbr-exec-adaptive run (its solutions keep each task's candidates), every
candidate is judged on the hidden tests of each dataset that judges the run: for analysis only,
after the choice, never to make it. Each task falls in one class:
- picked right: the chosen answer passes;
- pool right, picked wrong: some candidate passes; the vote is replayed (the same inputs and seed
  as the run) to show why it lost: the winning behaviour's size against the right ones';
- no right candidate: sampled, and none of the pool passes;
- greedy only, wrong: the gate kept the greedy answer (it passed the docstring's examples) and the
  hidden tests fail it: points only a wider gate can reach.
The ceiling is the score of an oracle that always picks a right candidate from the same pools.
"""

import functools
import json
import sys
import tempfile
from pathlib import Path

from bench.common import load_average, publish, solutions_command
from qwen_humaneval import config
from qwen_humaneval.cli import handled
from qwen_humaneval.config import CHECK_TIMEOUT
from qwen_humaneval.datasets import DEFAULT, load_problems, score_columns
from qwen_humaneval.datasets import dataset as get_dataset
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.examples import extract_checks
from qwen_humaneval.extract import normalized
from qwen_humaneval.generation import visible_part
from qwen_humaneval.jsonl_io import read_jsonl
from qwen_humaneval.manifest import read_manifest
from qwen_humaneval.sandbox.pool import SandboxPool
from qwen_humaneval.selection import code_of, compared_inputs, outputs_job, vote
from qwen_humaneval.settings import Settings

CLASSES = ("picked right", "pool right, picked wrong", "no right candidate", "greedy only, wrong")


def pools(solutions: Path) -> dict[str, dict]:
    """Each task's candidates (the greedy answer first), the pick, and whether it was sampled."""
    found = {}
    for _, record in read_jsonl(solutions):
        candidates = record.get("mbr_candidates")
        if candidates is None:
            raise ValueError(f"{solutions}: {record['task_id']} keeps no candidates (not mbr-exec)")
        if isinstance(candidates, str):
            candidates = json.loads(candidates)
        found[record["task_id"]] = {
            "candidates": candidates,
            "pick": record["mbr_pick"],
            "sampled": record.get("mbr_sampled", len(candidates) > 1),
            "seed": record["seed"],
        }
    return found


def judge_candidates(by_task: dict, dataset: str, cache_dir: Path, workers: int) -> dict:
    """task -> the indexes of its candidates that pass dataset's hidden tests."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "candidates.jsonl"
        lines = [
            json.dumps({"task_id": task, "sample": n, "completion": completion})
            for task, pool in by_task.items()
            for n, completion in enumerate(pool["candidates"])
        ]
        samples.write_text("\n".join(lines) + "\n")
        spec = get_dataset(dataset)
        problems = {t: p for t, p in spec.load(cache_dir).items() if t in by_task}
        results = evaluate(
            samples,
            Path(tmp) / "r.jsonl",
            cache_dir=cache_dir,
            dataset=dataset,
            workers=workers,
            problems=problems,
        )
    right: dict[str, set] = {task: set() for task in by_task}
    for r in results:
        if r["passed"]:
            right[r["task_id"]].add(r["completion_id"])
    return right


def classify(pool: dict, right: set) -> str:
    if pool["pick"] in right:
        return CLASSES[0]
    if not pool["sampled"]:
        return CLASSES[3]
    return CLASSES[1] if right else CLASSES[2]


def replay(problem: dict, pool: dict, sandbox, inputs: int) -> tuple[dict, dict]:
    """The run's vote again, with its inputs and seed: (behaviour -> candidates, its facts)."""
    return vote(visible_part(problem), pool["candidates"], sandbox, inputs, pool["seed"])


def why_lost(pool: dict, right: set, replayed: tuple[dict, dict]) -> str:
    """The replayed vote: the winning behaviour's size, and the sizes of those holding a right
    candidate."""
    behaviours, info = replayed
    sizes = sorted(((len(m), bool(right & set(m))) for m in behaviours.values()), reverse=True)
    winner = next((len(m) for m in behaviours.values() if pool["pick"] in m), 0)
    right_sizes = [n for n, holds in sizes if holds]
    examples = f"examples passed {info.get('examples_passed', '-')}/{info['examples']}"
    if not right_sizes:
        filtered = len(pool["candidates"]) - sum(n for n, _ in sizes)
        return f"the right ones failed the examples' filter ({filtered} filtered out; {examples})"
    return f"winner {winner} vs right {right_sizes} of {len(pool['candidates'])} ({examples})"


def fastest_in_winner(
    problem: dict, pool: dict, replayed: tuple[dict, dict], sandbox, inputs: int, repeats: int = 3
) -> int:
    """The pick if the winning behaviour went to its fastest member on the compared inputs (best of
    `repeats` runs) instead of its earliest, switching only when the earliest is at least twice as
    slow: what a pick by measured run time would have done, replayed."""
    visible = visible_part(problem)
    winner = next((m for m in replayed[0].values() if pool["pick"] in m), [])
    checks = extract_checks(visible["prompt"], visible["entry_point"])
    arguments = compared_inputs(visible, checks, inputs, pool["seed"])
    seconds, seen = {}, set()
    for index in sorted(winner):
        code = normalized(code_of(visible, pool["candidates"][index]))
        if code in seen or not arguments:
            continue
        seen.add(code)
        job = outputs_job(visible, pool["candidates"][index], arguments)
        runs = [sandbox.execute(job, CHECK_TIMEOUT) for _ in range(repeats)]
        seconds[index] = min(r["duration"] for r in runs)
    if len(seconds) < 2:
        return pool["pick"]
    fastest = min(seconds, key=lambda i: (seconds[i], i))
    return fastest if seconds[pool["pick"]] >= 2 * seconds[fastest] else pool["pick"]


def ceiling(
    settings: Settings, solutions: Path, workers: int | None = None, judges: tuple = ()
) -> list[dict]:
    """The table and the task-by-task account, on every dataset judging the run (or judges)."""
    run = (read_manifest(solutions) or {}).get("settings") or {}
    dataset = run.get("dataset", DEFAULT)
    by_task = pools(solutions)
    workers = workers or config.cores()
    print(f"load average before: {load_average():.2f}; {solutions}: {len(by_task)} tasks")
    rows, lines = [], []
    problems = load_problems(dataset, settings.cache_dir)
    inputs = run.get("mbr_inputs", 24)
    several = {t: pool for t, pool in by_task.items() if len(pool["candidates"]) > 1}
    with SandboxPool(workers, settings.cache_dir) as sandbox:
        replayed = {t: replay(problems[t], pool, sandbox, inputs) for t, pool in several.items()}
        timed = {
            t: fastest_in_winner(problems[t], pool, replayed[t], sandbox, inputs)
            for t, pool in several.items()
        }
    for title, spec, base_only in score_columns(dataset):
        if base_only or (judges and spec.name not in judges):
            continue
        right = judge_candidates(by_task, spec.name, settings.cache_dir, workers)
        classes = {t: classify(by_task[t], right[t]) for t in by_task}
        lost = {
            t: why_lost(by_task[t], right[t], replayed[t])
            for t, c in classes.items()
            if c == CLASSES[1]
        }
        counts = {c: sum(v == c for v in classes.values()) for c in CLASSES}
        picked, oracle = counts[CLASSES[0]], counts[CLASSES[0]] + counts[CLASSES[1]]
        moved = {t: (by_task[t]["pick"] in right[t], i in right[t]) for t, i in timed.items()}
        moved = {t: m for t, m in moved.items() if m[0] != m[1]}
        by_time = (
            picked + sum(now for _, now in moved.values()) - sum(was for was, _ in moved.values())
        )
        rows.append({"dataset": title, **counts, "tasks": len(by_task), "ceiling": oracle})
        rows[-1]["picked right, fastest in the winner"] = by_time
        lines += [f"### {title}: picked {picked}/{len(by_task)}, ceiling {oracle}", ""]
        lines += [f"- {c}: {n}" for c, n in counts.items()]
        lines += [f"  - {t}: {why}" for t, why in lost.items()]
        gate = [t for t, c in classes.items() if c == CLASSES[3]]
        lines += [f"- greedy only, wrong: {', '.join(gate) or 'none'}"]
        changed = ", ".join(
            f"{t} ({'fixed' if now else 'broken'})" for t, (_, now) in moved.items()
        )
        lines += [f"- fastest in the winner instead: {by_time} ({changed or 'no change'})", ""]
    publish(f"bench_ceiling_{dataset}", lines, rows, settings.output_dir)
    return rows


@handled
def main() -> int:
    return solutions_command(__doc__, functools.partial(ceiling, Settings.from_environ()))


if __name__ == "__main__":
    sys.exit(main())
