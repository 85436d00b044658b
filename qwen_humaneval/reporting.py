"""Summaries of a results file: success rate, pass@k, failure kinds, cost."""
import re
from collections import Counter

from .passk import mean_pass_at_k


def failure_kind(result: str, solution: dict | None) -> str:
    if result == "passed":
        return "passed"
    if solution is not None and not solution.get("completion", "").strip() and not solution.get("solution"):
        return "empty answer"
    if solution is not None and solution.get("finish_reason") == "length":
        return "truncated answer"
    if result == "timed out":
        return "timeout"
    if "killed by signal" in result or "exited with code" in result:
        return "crash / exit"
    match = re.match(r"failed: (\w+)", result)
    if not match:
        return "other"
    name = match.group(1)
    if name == "AssertionError":
        return "wrong answer (assertion)"
    if name in ("SyntaxError", "IndentationError", "TabError"):
        return "syntax error"
    return f"exception: {name}"


def summarize(results: list[dict], solutions: dict[tuple, dict] | None = None) -> dict:
    solutions = solutions or {}
    per_task: dict[str, list[bool]] = {}
    kinds = Counter()
    for r in results:
        per_task.setdefault(r["task_id"], []).append(bool(r["passed"]))
        kinds[failure_kind(r.get("result", ""), solutions.get((r["task_id"], r["completion_id"])))] += 1
    counts = [(len(v), sum(v)) for v in per_task.values()]
    samples = min((n for n, _ in counts), default=0)
    pass_at = {}
    for k in (1, 5, 10, 100):
        if k <= samples:
            pass_at[f"pass@{k}"] = round(100 * mean_pass_at_k(counts, k), 2)
    solved = sum(c > 0 for _, c in counts)
    chosen = [solutions[key] for key in solutions if key[0] in per_task]
    return {
        "tasks": len(per_task),
        "samples_per_task": samples,
        "solved_tasks": solved,
        "success_rate": round(100 * solved / len(per_task), 2) if per_task and samples == 1 else pass_at.get("pass@1", 0.0),
        **pass_at,
        "failure_kinds": dict(kinds.most_common()),
        "prompt_tokens": sum(s.get("prompt_tokens", 0) for s in chosen),
        "completion_tokens": sum(s.get("completion_tokens", 0) for s in chosen),
        "requests": sum(s.get("requests", 1) for s in chosen),
    }
