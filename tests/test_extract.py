"""Code extraction from model answers: every shape the model produces, including the ugly ones."""

import pytest

from qwen_humaneval.extract import extract_completion

PROMPT = '''from typing import List


def below_zero(operations: List[int]) -> bool:
    """ Detect whether the balance falls below zero.
    >>> below_zero([1, 2, -4, 5])
    True
    """
'''
BODY = "    balance = 0\n    for op in operations:\n        balance += op\n        if balance < 0:\n            return True\n    return False\n"
FULL = "def below_zero(operations: List[int]) -> bool:\n" + BODY


def run(prompt: str, completion: str, call: str):
    namespace: dict = {}
    exec(prompt + completion, namespace)
    return eval(call, namespace)


def works(completion: str) -> bool:
    return (
        run(PROMPT, completion, "below_zero([1, 2, -4, 5])") is True
        and run(PROMPT, completion, "below_zero([1, 2])") is False
    )


def test_continued_body_is_kept_verbatim():
    assert (
        extract_completion(
            PROMPT, BODY + "```\nThis loops over the operations.", "below_zero", continued=True
        )
        == BODY
    )


def test_continued_body_drops_example_usage_and_main_block():
    answer = (
        BODY
        + "\nprint(below_zero([1, -2]))\n\nif __name__ == '__main__':\n    import doctest\n    doctest.testmod()\n```"
    )
    completion = extract_completion(PROMPT, answer, "below_zero", continued=True)
    assert "print" not in completion and "doctest" not in completion
    assert works(completion)


def test_continued_body_with_helper_function_after_it():
    body = "    return _walk(operations)\n\n\ndef _walk(ops):\n    total = 0\n    for op in ops:\n        total += op\n        if total < 0:\n            return True\n    return False\n"
    completion = extract_completion(PROMPT, body + "```", "below_zero", continued=True)
    assert "_walk" in completion and works(completion)


def test_truncated_body_keeps_the_whole_lines():
    cut = BODY[: BODY.index("return False") + 8]  # "...    retu" cut mid-line by the token limit
    completion = extract_completion(PROMPT, cut, "below_zero", continued=True, truncated=True)
    assert completion == BODY[: BODY.index("    return False")]
    assert run(PROMPT, completion, "below_zero([1, 2, -4, 5])") is True


def test_fenced_full_function_with_prose_around():
    answer = f"Sure! Here is the implementation:\n\n```python\nfrom typing import List\n\n{FULL}```\n\nIt keeps a running balance."
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    assert (
        completion.startswith("\n")
        and "Sure" not in completion
        and "running balance" not in completion
    )
    assert works(completion)


def test_prose_that_mentions_a_fence_inline_is_not_a_fence():
    # Seen in chain-of-thought answers: the inline ```python``` used to pair with the real opening
    # fence.
    answer = (
        "1. **Check Examples**: below_zero([1, 2, -4, 5]) is True.\n\nHere's the complete "
        "function in one ```python``` code block:\n\n```python\nfrom typing import "
        f"List\n\n{FULL}```\n\nThis keeps a running balance."
    )
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    assert "Check Examples" not in completion and works(completion)


def test_fence_opened_mid_line_is_still_found():
    answer = f"Here it is: ```python\n{FULL}```"
    assert works(extract_completion(PROMPT, answer, "below_zero", continued=False))


def test_unfenced_full_function_after_prose():
    answer = "The function keeps a running total.\n\nimport itertools\n" + FULL
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    assert "import itertools" in completion and works(completion)


def test_picks_the_block_that_defines_the_entry_point():
    answer = (
        "First a helper:\n```python\ndef unrelated():\n    return 1\n```\nThen the "
        f"answer:\n```python\n{FULL}```\nUsage:\n```python\nprint(below_zero([1]))\n```"
    )
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    assert "unrelated" not in completion and "print" not in completion and works(completion)


def test_fenced_block_with_tests_and_asserts_keeps_only_definitions():
    answer = (
        f"```python\nimport math\n\nLIMIT = 0\n{FULL}\nassert below_zero([-1])\nprint('ok')\n```"
    )
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    assert "import math" in completion and "LIMIT = 0" in completion
    assert "assert below_zero" not in completion and "print" not in completion
    assert works(completion)


def test_unclosed_fence_from_a_truncated_answer():
    answer = "```python\n" + FULL + "\n\ndef extra(x):\n    return [x for x in"
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False, truncated=True)
    assert "extra" not in completion and works(completion)


def test_bare_indented_body_in_a_chat_answer():
    completion = extract_completion(PROMPT, f"```python\n{BODY}```", "below_zero", continued=False)
    assert works(completion)


def test_continuation_that_ignores_the_prefill_and_restarts_the_function():
    answer = "    pass\n\n\n" + FULL + "```"
    assert works(extract_completion(PROMPT, answer, "below_zero", continued=True))


@pytest.mark.parametrize("answer", ["", "I cannot help with that.", "```python\n```"])
def test_no_code_gives_an_empty_or_failing_completion(answer):
    completion = extract_completion(PROMPT, answer, "below_zero", continued=False)
    namespace: dict = {}
    exec(PROMPT + completion, namespace)  # still valid Python: the stub returns None
    assert namespace["below_zero"]([1, -5]) is None


@pytest.mark.parametrize(
    "completion, stub",
    [
        ("    # Your code here\n    pass\n", True),
        ("    ...\n", True),
        ("    raise NotImplementedError('todo')\n", True),
        ("", True),
        (
            "\ndef other():\n    return 1\n",
            True,
        ),  # a helper alone leaves the prompt's stub as the entry point
        (BODY, False),
        ("\n" + "from typing import List\n" + FULL, False),
    ],
)
def test_is_stub(completion, stub):
    from qwen_humaneval.extract import is_stub

    assert is_stub(PROMPT, completion, "below_zero") is stub
