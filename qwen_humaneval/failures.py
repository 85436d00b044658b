"""What kind of failure a verdict is, for the report's tables and filters (display only: scores and
selection read the judge's fields, never this)."""

import re


def failure_kind(result: str, solution: dict | None, category: str | None = None) -> str:
    if category == "infrastructure":
        return "infrastructure (not judged)"
    if result == "passed":
        return "passed"
    if (
        solution is not None
        and not solution.get("completion", "").strip()
        and not solution.get("solution")
    ):
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
