"""No completion can stop a run: random hostile completions through the real evaluator and
selection.

hypothesis writes the completions: random bytes and text (lone surrogates included), exceptions of
every builtin kind with random unicode messages, random return values (huge ints, nan, deep and wide
containers), early exits and signals, garbage on the candidate's own channel. Each sample must get a
verdict that can be stored, the run must finish, and a second run must find nothing left to do.
"""

import json
import pickle
import signal
import tempfile
from pathlib import Path

from helpers import CACHE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwen_humaneval.datasets import load_problems
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.sandbox.pool import SandboxPool
from qwen_humaneval.selection import choose

PROBLEM = load_problems("humaneval", CACHE)["HumanEval/0"]
HEADER = "def has_close_elements(numbers, threshold):\n"
SURROGATES = st.sampled_from(["\ud800", "\udfff", "\udc80"])
TEXT = st.lists(st.one_of(st.characters(), SURROGATES), max_size=40).map("".join)
EXCEPTIONS = st.sampled_from(
    [
        "Exception",
        "ValueError",
        "AssertionError",
        "SystemExit",
        "KeyboardInterrupt",
        "RecursionError",
        "MemoryError",
        "UnicodeError",
        "GeneratorExit",
        "StopIteration",
        "OSError",
        "Weird",
    ]
)
HASHABLE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT, st.binary(max_size=20)
)
VALUES = st.recursive(
    st.one_of(
        HASHABLE,
        st.sampled_from([5000, 30_000]).map(lambda digits: -(10**digits)),  # past str()'s limit
        st.sampled_from([float("inf"), 1j]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.frozensets(HASHABLE, max_size=4),
        st.dictionaries(HASHABLE, inner, max_size=4),
    ),
    max_leaves=20,
)


def body(line: str) -> str:
    return "".join("    " + part + "\n" for part in line.split("\n"))


def returning(value) -> str:
    """A function returning value, passed as a pickle so that any value (nan, surrogates) has a
    source form."""
    return body(f"import pickle\nreturn pickle.loads({pickle.dumps(value)!r})")


COMPLETIONS = st.one_of(
    st.binary(max_size=200).map(
        lambda b: b.decode("utf-8", "surrogateescape")
    ),  # random bytes as text
    TEXT,  # random text, not code
    st.tuples(EXCEPTIONS, TEXT).map(
        lambda e: body("class Weird(Exception):\n    pass\n" + f"raise {e[0]}({e[1]!r})")
    ),  # random exceptions
    VALUES.map(returning),  # random return values
    st.sampled_from(
        [
            body(
                "x = []\nfor _ in range(100_000):\n    x = [x]\nreturn x"
            ),  # deeper than the wire carries
            body("x = []\nfor _ in range(199):\n    x = [x]\nreturn x"),  # as deep as it carries
            body("return 'x' * 10 ** 8"),  # over the message cap
            body("return list(range(2_000_000))"),
            body(
                "class S(str):\n    def __str__(self):\n        raise RuntimeError\nclass "
                "E(Exception):\n    def __str__(self):\n        raise RuntimeError\nraise E()"
            ),
            body("import os\nos._exit(3)"),
            body("import sys\nsys.exit('\\ud800')"),
            body(f"import os\nos.kill(os.getpid(), {int(signal.SIGSEGV)})"),
            body(f"import os\nos.kill(os.getpid(), {int(signal.SIGKILL)})"),
            body("import os\nos.close(3)\nos.close(4)"),
            body("import os\nos.write(4, b'\\xff' * 100)\nreturn True"),
            body("import os\nos.write(4, b'\\x00\\x00\\x00\\x05{\"v\"')\nreturn True"),
            body("import sys\nsys.stdout.buffer.write(bytes(range(256)) * 100)\nreturn True"),
        ]
    ),
)

SELFCHECK = Path(tempfile.mkdtemp(prefix="qhe-hostile-"))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(COMPLETIONS, min_size=1, max_size=8))
def test_every_hostile_completion_gets_a_verdict_and_the_run_completes(completions):
    with tempfile.TemporaryDirectory() as folder:
        solutions, results = Path(folder) / "s.jsonl", Path(folder) / "r.jsonl"
        solutions.write_text(
            "".join(
                json.dumps({"task_id": "HumanEval/0", "solution": HEADER + c}) + "\n"
                for c in completions
            )
        )
        verdicts = evaluate(
            solutions,
            results,
            workers=2,
            selfcheck_cache=SELFCHECK,
            problems={"HumanEval/0": PROBLEM},
            cache_dir=CACHE,
        )
        assert [v["completion_id"] for v in verdicts] == list(range(len(completions)))
        # strict UTF-8: no lone surrogate got in; lines split at \n only, as JSON Lines are (not at
        # \x85 or \u2028)
        stored = results.read_bytes().decode("utf-8").rstrip("\n").split("\n")
        assert [json.loads(line)["result"] for line in stored] == [v["result"] for v in verdicts]
        assert not any(v["passed"] for v in verdicts)  # none of them solves the task
        assert all(len(v["result"]) <= 2100 for v in verdicts)
        again = evaluate(
            solutions,
            results,
            workers=2,
            selfcheck_cache=SELFCHECK,
            problems={"HumanEval/0": PROBLEM},
            cache_dir=CACHE,
        )
        assert again == verdicts  # resumed: nothing left to judge, nothing judged twice


TOY = {
    "task_id": "Toy/0",
    "entry_point": "f",
    "prompt": 'def f(a, b):\n    """Add.\n    >>> f(1, 2)\n    3\n    """\n',
}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.one_of(VALUES.map(returning), COMPLETIONS), min_size=2, max_size=6))
def test_selection_never_crashes_on_a_candidates_output(completions):
    """mbr-exec (and with it make select and mbr-exec-adaptive) votes on outputs; none can crash
    it."""
    with SandboxPool(2, CACHE) as sandbox:
        candidates = ["    return a + b\n", *completions]
        pick, info = choose(TOY, candidates, sandbox)
        assert 0 <= pick < len(candidates) and info["behaviours"] >= 1
