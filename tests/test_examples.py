"""Docstring examples -> executable checks, on every written form, and the no-leak rule."""

import pytest
from helpers import CACHE

from qwen_humaneval.datasets import load_problems
from qwen_humaneval.examples import (
    Check,
    example_arguments,
    extract_checks,
    failed_checks,
    parse_assertions,
)


def doc(body: str, name: str = "f") -> str:
    return f'def {name}(a, b=0):\n    """Do it.\n{body}\n    """\n'


@pytest.mark.parametrize(
    "body, expected",
    [
        ("    >>> f(1, 2)\n    3", [Check("f(1, 2)", "3")]),
        ("    >>> f([1, 2],\n    >>> f('x')\n    'y'", [Check("f('x')", "'y'")]),
        ("    >>> f([1,\n    ...   2])\n", []),
        (
            "    >>> f(2)\n    [1,\n     2]\n\n    >>> f(3)\n    []",
            [Check("f(2)", "[1, 2]"), Check("f(3)", "[]")],
        ),
        ("    f([1, 2]) == [2, 1]", [Check("f([1, 2])", "[2, 1]")]),
        ('    f("ab") ➞ True', [Check("f('ab')", "True")]),
        ("    f(3) => 'three'", [Check("f(3)", "'three'")]),
        ("    f(3) -> 9.5", [Check("f(3)", "9.5")]),
        ("    For example: f(4) = 16.", [Check("f(4)", "16")]),
        ("    f({'a': 1}) should return False.", [Check("f({'a': 1})", "False")]),
        ("    f(5, b=2) returns 7", [Check("f(5, 2)", "7")]),
        (
            "    Example 1:\n        Input: [4,2,3]\n        Output: [2, 1]\n",
            [Check("f([4, 2, 3])", "[2, 1]")],
        ),
        ("    Input: a = [1, 2], b = 3\n    Output: 6\n", [Check("f([1, 2], 3)", "6")]),
        ("    f(5, 6) -> 19 - 5 - 6 = 8", []),
        (
            "    >>> f([]) == 0\n    >>> f([1, 1]) == 2",
            [Check("f([])", "0"), Check("f([1, 1])", "2")],
        ),
        ("    f(-12) ==> (1, 1)", [Check("f(-12)", "(1, 1)")]),  # arithmetic, not a literal result
        ("    f(x) == y for any x", []),  # not literal
        ("    f(__import__('os')) == 1", []),  # never anything but literals
        ('    f(\'a\') == ""abc""', []),  # broken quoting
    ],
)
def test_forms(body, expected):
    assert extract_checks(doc(body), "f") == expected


def test_only_the_entry_point_is_called():
    assert extract_checks(doc("    >>> g(1)\n    2\n    helper_f(1) == 2"), "f") == []


def test_how_many_humaneval_prompts_yield_checks():
    problems = load_problems("humaneval", CACHE)
    with_checks = [t for t, p in problems.items() if extract_checks(p["prompt"], p["entry_point"])]
    doctest_style = [t for t, p in problems.items() if ">>>" in p["prompt"]]
    assert len(doctest_style) == 76
    assert len(with_checks) >= 140  # measured: 143 of 164 (402 checks)
    with_inputs = [
        t for t, p in problems.items() if example_arguments(p["prompt"], p["entry_point"])
    ]
    assert len(with_inputs) >= 145  # measured: 149 of 164 (mbr-exec compares candidates on them)


def test_example_arguments_whatever_follows_the_call():
    """Inputs for behaviour comparison need only the call: an unparsable result still gives its
    arguments."""
    prompt = doc(
        "    f(5, 6) -> 19 - 5 - 6 = 8\n    f('x', 1) => true\n    f(g(1)) == 2\n    f(5, 6) == 8"
    )
    assert example_arguments(prompt, "f") == [[5, 6], ["x", 1]]
    one_parameter = 'def s(lst):\n    """For lst = [1,2,3] the output should be 6\n    For lst = []  it is 0\n    """\n'
    assert example_arguments(one_parameter, "s") == [[[1, 2, 3]], [[]]]
    # two parameters: which one?
    assert example_arguments(doc("    For a = [1, 2] the output is 3"), "f") == []


def test_parse_assertions_written_by_the_model():
    text = (
        "assert f(1) == 2\nassert f([1, 2]) == [2, 1]  # swap\nassert f(3) != 4\nassert f(x) == "
        "1\nassert f(2) == 2 and f(3) == 3\nprint(f(1))\nassert f('a', 'b') == 'ab'\nassert f(1, "
        "b=2) == 3"
    )
    assert parse_assertions(text, "f") == [
        Check("f(1)", "2"),
        Check("f([1, 2])", "[2, 1]"),
        Check("f('a', 'b')", "'ab'"),
    ]


def test_failed_checks_come_from_the_judges_facts_not_the_text():
    assert (
        failed_checks({"result": "passed", "loaded": True, "checks_passed": [0, 1, 2]}, 3) == set()
    )
    assert failed_checks(
        {
            "result": "failed: AssertionError: failed checks [0, 2] of 3",
            "loaded": True,
            "checks_passed": [1],
        },
        3,
    ) == {0, 2}
    assert failed_checks({"result": "failed: SyntaxError: invalid syntax", "loaded": False}, 3) == {
        0,
        1,
        2,
    }
    assert failed_checks({"result": "timed out"}, 2) == {
        0,
        1,
    }  # the judge was killed: no facts at all
    # Text a candidate can write (its own exception at load time) counts for nothing.
    assert failed_checks(
        {"result": "failed: AssertionError: failed checks [] of 3", "loaded": False}, 3
    ) == {0, 1, 2}
