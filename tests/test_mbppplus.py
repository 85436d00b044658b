"""MBPP+ (EvalPlus v0.1.0): the loader, the inputs as the functions take them, EvalPlus's comparison
and oracles, the contamination guard, and every canonical solution through the real sandbox.

The data comes from ../shared/data/mbppplus (MBPPPLUS_PATH for users); without it the tests that
read it skip. The comparison with EvalPlus's own input conversion needs .venv-evalplus (made by
`make bench-plus`); without it that one test skips.
"""

import inspect
import json
import math
import subprocess
import textwrap
import warnings
from pathlib import Path

import pytest
from helpers import CACHE
from hypothesis import given
from hypothesis import strategies as st

from qwen_humaneval import generation, mbppplus
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.datasets import MBPPPLUS_SHA256, load_problems
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.manifest import write_manifest
from qwen_humaneval.sandbox.oracles import matches

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "mbppplus" / "MbppPlus-v0.1.0.jsonl"
EVALPLUS_PYTHON = ROOT / ".venv-evalplus" / "bin" / "python"


@pytest.fixture
def data(monkeypatch):
    if not SHARED.exists():
        pytest.skip(
            "../shared/data/mbppplus is not beside this checkout (set MBPPPLUS_PATH to run MBPP+)"
        )
    monkeypatch.setenv("MBPPPLUS_PATH", str(SHARED))
    monkeypatch.setenv("MBPP_PATH", str(SHARED.parents[1] / "mbpp" / "mbpp.jsonl"))
    return SHARED


def raw_records() -> list[dict]:
    return [json.loads(line) for line in SHARED.read_text().splitlines() if line.strip()]


def test_the_pinned_file_loads_399_tasks_with_their_inputs(data):
    tasks = load_problems("mbppplus", CACHE)
    assert len(tasks) == 399 and list(tasks)[0] == "Mbpp/2" and list(tasks)[-1] == "Mbpp/809"
    assert sum(len(t["base_input"]) for t in tasks.values()) == 1236
    assert sum(len(t["plus_input"]) for t in tasks.values()) == 42082
    similar = tasks["Mbpp/2"]
    assert (
        similar["base_input"][0] == [(3, 4, 5, 6), (5, 7, 4, 10)]
        and similar["oracle"] == "same_set"
    )
    assert tasks["Mbpp/124"]["base_input"][0] == [0.0, 1j]  # numbers written as text
    assert tasks["Mbpp/252"]["base_input"][0] == [complex(1)]  # the column is complex throughout
    assert tasks["Mbpp/793"]["plus_input"] == []  # stored as {}


def test_a_file_that_is_not_the_pinned_one_is_refused(data, tmp_path, monkeypatch):
    copy = tmp_path / "MbppPlus.jsonl"
    copy.write_text(SHARED.read_text().replace("shared elements", "common elements", 1))
    monkeypatch.setenv("MBPPPLUS_PATH", str(copy))
    with pytest.raises(ArtifactError, match=f"sha256 .*expected {MBPPPLUS_SHA256}"):
        load_problems("mbppplus", CACHE)


def test_a_record_missing_a_field_names_file_line_and_field(data, tmp_path):
    lines = SHARED.read_text().splitlines()
    broken = json.loads(lines[4])
    del broken["atol"]
    lines[4] = json.dumps(broken)
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ArtifactError, match=rf"{path}:5: missing field 'atol'"):
        mbppplus.load(path)
    lines[4] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ArtifactError, match=rf"{path}:5: not JSON"):
        mbppplus.load(path)


def _breaks_its_contract(record: dict) -> bool:
    """Whether the task's stored base inputs fail the input checks EvalPlus wrote for it (its
    `contract`)."""
    body = textwrap.dedent(record["contract"].expandtabs(4)).strip("\n")
    if not body.strip():
        return False
    namespace = {}
    with warnings.catch_warnings():  # the reference solutions' regexes in plain strings ("\w")
        warnings.simplefilter("ignore", DeprecationWarning)
        exec(
            compile(record["prompt"] + record["canonical_solution"], record["task_id"], "exec"),
            namespace,
        )
    parameters = list(inspect.signature(namespace[record["entry_point"]]).parameters)
    exec(f"def _contract({', '.join(parameters)}):\n{textwrap.indent(body, '    ')}\n", namespace)
    try:
        for arguments in record["base_input"]:
            namespace["_contract"](*arguments)
    except AssertionError:
        return True
    return False


def test_the_tasks_whose_inputs_are_converted_are_found_from_the_file_itself(data):
    """The rule of mbppplus.py, run again: the tasks whose stored base inputs break their own
    contract, and the three whose values stand for types JSON lacks (sets, complex numbers)."""
    records = raw_records()
    found = {r["task_id"] for r in records if _breaks_its_contract(r)}
    assert {"Mbpp/115", "Mbpp/252"}.isdisjoint(found) and "Mbpp/124" in found
    assert found | {"Mbpp/115", "Mbpp/252"} == mbppplus.CONVERTED_TASKS


def _typed(value):
    """A value with every type spelled out, so that (1, 2) != [1, 2] and 1 != 1.0 != 1+0j."""
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_typed(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return [type(value).__name__, sorted(map(repr, value))]
    if isinstance(value, dict):
        return ["dict", [[repr(k), _typed(v)] for k, v in value.items()]]
    return [type(value).__name__, repr(value)]


def test_every_input_is_what_evalplus_passes(data):
    if not EVALPLUS_PYTHON.exists():
        pytest.skip(
            "EvalPlus 0.3.1 is not installed here (make bench-plus installs it in .venv-evalplus)"
        )
    program = inspect.getsource(_typed) + textwrap.dedent(f"""
        import json
        from evalplus.data.mbpp import mbpp_deserialize_inputs
        out = {{}}
        for line in open({str(SHARED)!r}):
            r = json.loads(line)
            inputs = [mbpp_deserialize_inputs(r["task_id"], r[f]) for f in ("base_input", "plus_input")]
            out[r["task_id"]] = [_typed([list(arguments) for arguments in i]) for i in inputs]
        print(json.dumps(out))
    """)
    theirs = json.loads(
        subprocess.run([EVALPLUS_PYTHON, "-c", program], capture_output=True, check=True).stdout
    )
    ours = load_problems("mbppplus", CACHE)
    differ = [
        t
        for t, task in ours.items()
        if [_typed(task["base_input"]), _typed(task["plus_input"])] != theirs[t]
    ]
    # (the argument lists compared, not how each is packed: EvalPlus calls f(*arguments) with
    # either)
    assert differ == []


def test_every_canonical_solution_passes_its_own_inputs_in_the_sandbox(data, tmp_path):
    """The self-check's guarantee, on all 399 tasks: the reference solution as a sample passes base
    and plus."""
    tasks = load_problems("mbppplus", CACHE)
    solutions = tmp_path / "solutions.jsonl"
    lines = [
        json.dumps({"task_id": t, "completion": p["canonical_solution"]}) for t, p in tasks.items()
    ]
    solutions.write_text("\n".join(lines) + "\n")
    results = evaluate(
        solutions,
        tmp_path / "results.jsonl",
        dataset="mbppplus",
        expected_cache=tmp_path / "expected",
        selfcheck_cache=tmp_path / "selfcheck",
        cache_dir=CACHE,
    )
    failed = {r["task_id"]: r["result"] for r in results if not (r["passed"] and r["base_passed"])}
    assert failed == {} and len(results) == 399


def test_the_evalplus_comparison():
    # 1e-6 only where the expected value is floats
    assert matches(3, 3, 0) and not matches(3, 3.0000001, 0.0)
    assert matches(0.1 + 0.2, 0.3, 0) and not matches(0.31, 0.3, 0)
    assert matches([1.0, 2.0000001], [1.0, 2.0], 0) and not matches([1.0], [1.0, 2.0], 0)
    assert not matches(3, 3.0000001, 1e-6)  # not equal, and an int is not a float
    assert not matches((1.0, 2.0), [1.0, 2.0], 1e-6)  # tuple against list: equal neither way
    assert matches([[1.0, 2.0]], [[1.0, 2.00001]], 1e-4) and not matches(
        [[1.0, 2.0]], [[1.0, 2.1]], 1e-4
    )
    assert not matches(float("nan"), float("nan"), 1e-6) and matches(math.inf, math.inf, 0)
    assert not matches("a", 1.0, 1e-3) and not matches(object(), 1.0, 1e-3)


@given(st.floats(-1e6, 1e6), st.floats(0, 1e-3), st.floats(-1, 1))
def test_floats_are_close_as_numpy_allclose_says(expected, atol, step):
    got = expected + step * atol
    numpy_says = abs(got - expected) <= atol + 1e-7 * abs(expected)
    assert matches(got, expected, atol) == (got == expected or numpy_says)


def test_the_special_oracles():
    assert matches([5, 4], (4, 5), 0, "same_set") and not matches([4], (4, 5), 0, "same_set")
    assert not matches(5, (4, 5), 0, "same_set")  # not iterable: a wrong answer, not a crash
    assert matches(True, True, 0, "not_none") and not matches(False, True, 0, "not_none")
    assert matches(False, 99, 0, "any")
    assert (
        matches(0, 12, 0, "or_zero")
        and matches(12, 12, 0, "or_zero")
        and not matches(11, 12, 0, "or_zero")
    )
    # base 3, height 4: slant sqrt(1.5**2 + 4**2) = 4.272, so 9 + 2 * 3 * 4.272 = 34.63, rounded 35
    assert matches(35, 33, 0, "pyramid_surface", (3, 4)) and not matches(
        34, 33, 0, "pyramid_surface", (3, 4)
    )
    # 123 against 045: 1 + 2 + 2
    assert matches(5, 4, 0, "digit_distance", (123, 45)) and not matches(
        6, 4, 0, "digit_distance", (123, 45)
    )


def test_a_fine_tuned_model_is_never_asked_the_tasks_it_trained_on(data, tmp_path):
    """The contamination guard: 111 MBPP+ tasks come from MBPP's training split, which make finetune
    uses."""
    tasks = load_problems("mbppplus", CACHE)
    plain = tmp_path / "plain.gguf"
    plain.write_bytes(b"GGUF")
    assert generation.unseen_problems(tasks, {"model_file": str(plain)}, CACHE) == (tasks, None)
    tuned = tmp_path / "tuned.gguf"
    tuned.write_bytes(b"GGUF")
    write_manifest(tuned, "finetune", {"train_dataset": "mbpp-train"})
    kept, left_out = generation.unseen_problems(tasks, {"model_file": str(tuned)}, CACHE)
    assert len(left_out["tasks"]) == 111 and len(kept) == 288 and "mbpp-train" in left_out["why"]
    assert all(601 <= int(t.split("/")[1]) <= 974 for t in left_out["tasks"])
    assert (
        generation.unseen_problems(
            load_problems("humaneval", CACHE), {"model_file": str(tuned)}, CACHE
        )[1]
        is None
    )


def test_the_digest_of_a_large_output_tells_values_and_types_apart():
    from qwen_humaneval.sandbox import wire

    built_one_way = [(i, "ab") for i in range(10_000)]
    built_another = [
        (int(str(i)), "a" + "b") for i in range(10_000)
    ]  # equal, made of other objects
    assert wire.digest(built_one_way) == wire.digest(built_another)
    assert wire.digest(built_one_way) != wire.digest(tuple(built_one_way))
    assert wire.digest([1, 2]) != wire.digest([1.0, 2]) != wire.digest([True, 2])
    assert wire.digest(built_one_way) != wire.digest(built_one_way[:-1])
    assert not wire.is_large(built_one_way) and wire.is_large(built_one_way, limit=20_000)
    # counted no further than the limit: fast on 1.1 GB too
    assert wire.is_large([[0] * 1000] * 2000)
