"""Executable checks from the examples written in a problem's docstring (never from its hidden
tests).

Recognised forms, for the entry point f:
    >>> f(x)            f(x) == y          f(x) ➞ y          f(x) => y          f(x) -> y
    y  (one or more lines until a blank line or the next >>>)
    f(x) = y           f(x) should return y      f(x) returns y      f(x) is y
    Input: x / Output: y   (also "Input: a = 1, b = [2]", keyword names mapped to positions)
Arguments and expected values must be Python literals, so a check never runs anything but the
candidate. Examples in prose that do not fit these forms are skipped.
"""

import ast
import re
from dataclasses import dataclass

SEPARATORS = (
    "==>",
    "==",
    "➞",
    "=>",
    "->",
    "→",
    "should return",
    "returns",
    "should be",
    "is",
    "=",
    ":",
)


@dataclass(frozen=True)
class Check:
    call: str  # e.g. "f([1, 2], 3)"
    expected: str  # a literal, e.g. "[2, 1]"


def docstring(prompt: str, entry_point: str) -> str:
    """The prompt text after the entry point's signature (its docstring and comments)."""
    match = re.search(rf"def {re.escape(entry_point)}\s*\(", prompt)
    return prompt[match.end() :] if match else prompt


def _balanced_call(text: str, start: int) -> int | None:
    """Index just past the parenthesis closing the one at text[start], skipping string literals."""
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _is_literal(src: str) -> bool:
    try:
        ast.literal_eval(src.strip())
        return True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _literal_prefix(text: str) -> str | None:
    """The longest prefix of text that is a literal and ends the expression: on its first line, or
    over several lines while brackets stay open. "19 - 5 - 6 = 8" and '""abc""' give None: what
    follows the literal shows it is only the start of something else."""
    text = text.strip()
    if not text:
        return None
    first_line_end = text.find("\n")
    limit = (
        len(text)
        if text[:1] in "[({\"'"
        else (first_line_end if first_line_end >= 0 else len(text))
    )
    for end in range(limit, 0, -1):
        candidate = text[:end].rstrip().rstrip(".,;")
        if not candidate or not _is_literal(candidate):
            continue
        after = text[len(candidate) :]
        if after[:1] and not (after[:1].isspace() or after[:1] in ".,;)"):
            return None
        if after.lstrip(" \t")[:1] in ("+", "-", "*", "/", "%", "="):
            return None
        return " ".join(candidate.split()) if "\n" in candidate else candidate
    return None


def _normalise_call(entry_point: str, args_src: str) -> str | None:
    """f(args) with literal arguments; keyword arguments become positional in their written
    order."""
    try:
        node = ast.parse(f"{entry_point}({args_src})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call):
        return None
    args = list(node.args) + [k.value for k in node.keywords]
    sources = [ast.unparse(a) for a in args]
    if not all(_is_literal(s) for s in sources):
        return None
    return f"{entry_point}({', '.join(sources)})"


def _after_separator(rest: str) -> str | None:
    stripped = rest.lstrip(" \t")
    for sep in SEPARATORS:
        if stripped.startswith(sep) and not (sep == "=" and stripped.startswith("==")):
            return stripped[len(sep) :]
    return None


def _doctest_checks(doc: str, entry_point: str) -> list[Check]:
    checks = []
    lines = doc.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith(">>>"):
            continue
        source = stripped[3:].strip()
        if not source.startswith(f"{entry_point}("):
            continue
        end = _balanced_call(source, len(entry_point))
        if end is None:
            continue
        if source[end:].strip():  # ">>> f(x) == y" on one line
            rest = _after_separator(source[end:])
            expected = _literal_prefix(rest) if rest is not None else None
            call = _normalise_call(entry_point, source[len(entry_point) + 1 : end - 1])
            if call and expected is not None:
                checks.append(Check(call, expected))
            continue
        result_lines = []
        for following in lines[i + 1 :]:
            if not following.strip() or following.strip().startswith(">>>"):
                break
            result_lines.append(following.strip())
        expected = _literal_prefix("\n".join(result_lines)) if result_lines else None
        call = _normalise_call(entry_point, source[len(entry_point) + 1 : end - 1])
        if call and expected is not None:
            checks.append(Check(call, expected))
    return checks


def _inline_checks(doc: str, entry_point: str) -> list[Check]:
    checks = []
    for match in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\(", doc):
        line_start = doc.rfind("\n", 0, match.start()) + 1
        if doc[line_start : match.start()].strip().startswith(">>>"):
            continue
        open_paren = match.end() - 1
        end = _balanced_call(doc, open_paren)
        if end is None:
            continue
        rest = _after_separator(doc[end:])
        if rest is None:
            continue
        expected = _literal_prefix(rest)
        call = _normalise_call(entry_point, doc[open_paren + 1 : end - 1])
        if call and expected is not None:
            checks.append(Check(call, expected))
    return checks


def _input_output_checks(doc: str, entry_point: str) -> list[Check]:
    checks = []
    pattern = re.compile(
        r"Input:\s*(.+?)\s*\n\s*Output:\s*(.+?)(?:\n\s*\n|\n\s*Explanation|\n\s*Example|\Z)", re.S
    )
    for match in pattern.finditer(doc):
        call = _normalise_call(entry_point, " ".join(match.group(1).split()))
        expected = _literal_prefix(match.group(2))
        if call and expected is not None:
            checks.append(Check(call, expected))
    return checks


def extract_checks(prompt: str, entry_point: str) -> list[Check]:
    doc = docstring(prompt, entry_point)
    found = (
        _doctest_checks(doc, entry_point)
        + _inline_checks(doc, entry_point)
        + _input_output_checks(doc, entry_point)
    )
    unique = []
    for check in found:
        if check not in unique:
            unique.append(check)
    return unique


def call_arguments(call: str) -> list:
    """The argument values of a normalised literal call, e.g. "f([1, 2], 'a')" -> [[1, 2], 'a']."""
    return [ast.literal_eval(a) for a in ast.parse(call, mode="eval").body.args]


def calls_in(text: str, entry_point: str) -> list[list]:
    """The argument lists of every call to the entry point in text with literal arguments."""
    found = []
    for match in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\(", text):
        end = _balanced_call(text, match.end() - 1)
        call = _normalise_call(entry_point, text[match.end() : end - 1]) if end else None
        if call:
            found.append(call_arguments(call))
    return found


def example_arguments(prompt: str, entry_point: str) -> list[list]:
    """The argument lists of every call to the entry point the docstring shows with literal
    arguments, whatever follows it (an expected value in prose, "=> true", an arithmetic
    explanation), and of "For x = [1, 2]" when x is the function's only parameter: inputs the
    specification speaks about."""
    doc = docstring(prompt, entry_point)
    found = calls_in(doc, entry_point)
    signature = re.search(rf"def {re.escape(entry_point)}\s*\(([^)]*)\)", prompt)
    params = (
        [p.split(":")[0].split("=")[0].strip() for p in signature.group(1).split(",") if p.strip()]
        if signature
        else []
    )
    if len(params) == 1:
        for match in re.finditer(rf"(?<![\w.]){re.escape(params[0])}\s*=\s*", doc):
            value = _literal_prefix(doc[match.end() :])
            if value is not None:
                found.append([ast.literal_eval(value)])
    unique = []
    for args in found:
        if args not in unique:
            unique.append(args)
    return unique


def checks_job(code: str, entry_point: str, checks: list[Check]) -> dict:
    """A sandbox job running every check against code; it fails listing each wrong call
    (sandbox/judge.py)."""
    return {
        "kind": "checks",
        "solution": code,
        "entry_point": entry_point,
        "checks": [[c.call, c.expected] for c in checks],
    }


def failed_checks(verdict: dict, count: int) -> set[int]:
    """Which of count checks a checks_job run failed, from the facts its judge set: all of them
    unless the solution loaded and the judge saw the check pass."""
    passed = verdict.get("checks_passed") if verdict.get("loaded") else None
    return set(range(count)) - {n for n in passed or [] if type(n) is int}


def feedback(verdict: dict) -> str:
    """The failing calls of a checks_job run, for the model to read (or why the code did not
    run)."""
    failures = verdict.get("check_failures")
    return "\n".join(failures) if failures else verdict["result"].removeprefix("failed: ")


def parse_assertions(text: str, entry_point: str) -> list[Check]:
    """Checks from test code the model wrote: `assert f(args) == literal` lines."""
    checks = []
    for line in text.split("\n"):
        line = line.strip()
        if not line.startswith(f"assert {entry_point}("):
            continue
        try:
            node = ast.parse(line).body[0]
        except (SyntaxError, IndexError):
            continue
        test = node.test
        if not (
            isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
        ):
            continue
        if not isinstance(test.left, ast.Call):
            continue
        call = _normalise_call(entry_point, ", ".join(ast.unparse(a) for a in test.left.args))
        expected = ast.unparse(test.comparators[0])
        if call and _is_literal(expected) and not test.left.keywords:
            checks.append(Check(call, expected))
    return checks
