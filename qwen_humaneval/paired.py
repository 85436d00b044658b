"""Paired comparison of two runs on the same tasks: flips, exact McNemar test, paired bootstrap
interval.

Each run is {task_id: score}, the score a task's pass rate over its samples (1/0 for one sample).
Only the tasks both runs judged are compared. The McNemar test counts the tasks one run solved and
the other did not (scores rounded at 0.5 when there are several samples); the bootstrap resamples
tasks, keeping each task's pair together, so the interval is of the difference in pass@1 that the
same model and settings would show on another draw of similar problems.
"""

import math
import random


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (binomial test of b against
    n=b+c, p=1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_interval(
    differences: list[float], resamples: int = 10_000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the mean of paired per-task differences, resampling tasks with
    replacement."""
    if not differences:
        return 0.0, 0.0
    rng = random.Random(seed)
    n = len(differences)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(resamples))
    low = means[int((1 - level) / 2 * resamples)]
    high = means[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return low, high


def compare_runs(
    before: dict[str, float], after: dict[str, float], *, resamples: int = 10_000, seed: int = 0
) -> dict:
    """Everything a claim "after beats before" needs, in points of pass@1 (after - before)."""
    tasks = sorted(set(before) & set(after), key=_task_order)
    fixed = [t for t in tasks if after[t] >= 0.5 > before[t]]
    broken = [t for t in tasks if before[t] >= 0.5 > after[t]]
    differences = [after[t] - before[t] for t in tasks]
    low, high = bootstrap_interval(differences, resamples, seed)
    return {
        "tasks": len(tasks),
        "before": round(100 * sum(before[t] for t in tasks) / len(tasks), 2) if tasks else 0.0,
        "after": round(100 * sum(after[t] for t in tasks) / len(tasks), 2) if tasks else 0.0,
        "difference": round(100 * sum(differences) / len(tasks), 2) if tasks else 0.0,
        "ci95": [round(100 * low, 2), round(100 * high, 2)],
        "fixed": fixed,
        "broken": broken,
        "mcnemar_p": mcnemar_exact(len(fixed), len(broken)),
        "only_in_one_run": len(set(before) ^ set(after)),
    }


def describe(c: dict) -> str:
    """One line: the difference, its interval, the flips and the p-value."""
    verdict = "significant at 5%" if c["mcnemar_p"] < 0.05 else "not significant at 5%"
    return (
        f"{c['after']:.2f}% vs {c['before']:.2f}% on {c['tasks']} paired tasks: "
        f"{c['difference']:+.2f} points (95% paired bootstrap CI {c['ci95'][0]:+.2f} to "
        f"{c['ci95'][1]:+.2f}); {len(c['fixed'])} fixed, {len(c['broken'])} broken, exact McNemar "
        f"p = {c['mcnemar_p']:.3g} ({verdict})"
    )


def _task_order(task_id: str):
    prefix, _, number = task_id.rpartition("/")
    return (prefix, int(number)) if number.isdigit() else (task_id, 0)


def task_scores(results: list[dict]) -> dict[str, float]:
    """A results file's per-task pass rate, over the samples each task has; tasks that could not be
    judged (infrastructure) are left out, so they are not paired either."""
    unjudged = {r["task_id"] for r in results if r.get("category") == "infrastructure"}
    per_task: dict[str, list[bool]] = {}
    for r in results:
        if r["task_id"] not in unjudged:
            per_task.setdefault(r["task_id"], []).append(bool(r["passed"]))
    return {t: sum(v) / len(v) for t, v in per_task.items()}
