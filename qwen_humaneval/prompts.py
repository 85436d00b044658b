"""Every text sent to the model, in one place.

Only the problem's prompt (signature, docstring, the examples in it) and the model's own output
are ever used; the dataset's hidden tests never are.
"""

import re

from .datasets import dataset

SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Prompt styles for a direct answer: - "prefill": the EvalPlus-style request showing the problem,
# with the assistant's answer opened by the prompt itself in a python fence, so the model writes
# only the body instead of repeating the docstring (about half the completion tokens); - "continue":
# the same prefill under a one-line request (fewer prompt tokens, more placeholder answers); -
# "signature": the EvalPlus-style request showing the problem, the answer opened with the function's
# signature and a one-line docstring pointing at the problem above, so the problem's tokens are
# processed once, not twice (with the signature alone the model writes the whole docstring out
# again); - "instruct": the EvalPlus-style request alone; the model writes the whole function. With
# the prompt prefilled up to the signature or in full, the model's text continues the function's
# body either way, and the completion is appended to the full prompt.
STYLES = ("prefill", "signature", "continue", "instruct")


# A continuation is done when it closes the prefilled fence; top-level prints, asserts and __main__
# blocks after the function are never needed (and are where the model loops until the token limit),
# nor are top-level comments ("# Test cases", "# Example usage"), which always open such a tail.
CONTINUATION_STOPS = ("\n```", "\nif __name__", "\nprint(", "\nassert ", "\n#")
# A program continuing a module docstring (MBPP) may open with comments and imports: no comment
# stop.
MODULE_STOPS = CONTINUATION_STOPS[:-1]


def stops_for(name: str) -> tuple:
    return MODULE_STOPS if dataset(name).program else CONTINUATION_STOPS


def _fenced(prompt: str) -> str:
    return f"```python\n{prompt.rstrip()}\n```"


SIGNATURE_DOCSTRING = '    """See the problem above."""\n'


def signature(prompt: str, entry_point: str) -> str:
    """The prompt up to and including the entry point's `def` line(s), or the whole prompt when not
    found."""
    match = re.search(
        rf"^(async )?def {re.escape(entry_point)}\(.*?\)[^:\n]*:[ \t]*\n", prompt, re.M | re.S
    )
    return prompt[: match.end()] if match else prompt


def direct(
    prompt: str, style: str = "prefill", entry_point: str = ""
) -> tuple[list[dict], str | None]:
    """Messages and assistant prefill asking for a solution straight away."""
    instruct = (
        "Please provide a self-contained Python script that solves the following problem in a "
        f"markdown code block:\n{_fenced(prompt)}"
    )
    users = {
        "prefill": instruct,
        "signature": instruct,
        "continue": "Complete the following Python function.",
        "instruct": instruct,
    }
    if style not in users:
        raise ValueError(f"unknown prompt style {style!r}; choose one of {', '.join(STYLES)}")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": users[style]}]
    if style == "instruct":
        return messages, None
    if style == "signature":
        return messages, "```python\n" + signature(prompt, entry_point) + SIGNATURE_DOCSTRING
    return messages, "```python\n" + prompt


def chain_of_thought(prompt: str) -> list[dict]:
    user = (
        "Solve the following Python problem. First think step by step in a few short sentences: "
        "restate what the function must do, check the examples in the docstring, and note edge "
        "cases. Then give the complete function, with any imports it needs, in one ```python code "
        f"block.\n{_fenced(prompt)}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def code_after_reasoning(reasoning: str, prompt: str) -> str:
    """Assistant prefill that continues a reasoning-only answer with the function, prompt already
    written."""
    return f"{reasoning.rstrip()}\n\n```python\n{prompt}"


def repair(prompt: str, code: str, feedback: str) -> list[dict]:
    user = (
        "This function was written for the problem below, but it fails on the examples from the "
        "docstring.\n"
        f"Problem:\n{_fenced(prompt)}\nCode:\n{_fenced(code)}\nFailures:\n{feedback}\n\n"
        "Explain the bug in one or two sentences, then give the corrected complete function in one "
        "```python code block."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def write_tests(prompt: str, entry_point: str, count: int) -> tuple[list[dict], str]:
    user = (
        f"Write {count} different test cases for the function below, as assert statements that "
        f"call {entry_point} with inputs and compare with the exact expected output. Cover "
        f"ordinary inputs and edge cases. Do not implement the function.\n{_fenced(prompt)}"
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
    ], f"```python\nassert {entry_point}("


def distinguishing_inputs(
    prompt: str, entry_point: str, codes: tuple[str, str], count: int, example: str | None
) -> tuple[list[dict], str]:
    """Ask for calls on which two implementations disagree: inputs only, never expected results.
    example: a call as the docstring writes it, so the model keeps the arguments' shape."""
    shape = f" Write each call as the problem does, like `{example}`." if example else ""
    user = (
        f"Two implementations of `{entry_point}` were written for the problem below, and they do "
        f"not always return the same result.\nProblem:\n{_fenced(prompt)}\nImplementation A:\n"
        f"{_fenced(codes[0])}\nImplementation B:\n{_fenced(codes[1])}\n"
        f"Write {count} different calls of `{entry_point}` with valid inputs, as the problem "
        f"describes them, on which A and B return different results.{shape} Write only the calls, "
        "one per line, without their results."
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return messages, f"```python\n{entry_point}("


def judge_results(prompt: str, call: str, result_a: str, result_b: str) -> tuple[list[dict], str]:
    """Ask which of two results of one call the problem asks for; the answer is one letter."""
    user = (
        f"Problem:\n{_fenced(prompt)}\nFor the call `{call}`, two results were computed:\n"
        f"A: {result_a}\nB: {result_b}\n"
        "Which result is correct according to the problem? Answer with the letter A or B only."
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return messages, "The correct result is"
