"""MBPP: the loader (splits, prompts, entry points, the pin), and its tests run by the real sandbox.

The data comes from ../shared/data/mbpp (MBPP_PATH for users); without it these tests skip.
"""

import ast
import json
import shutil
from pathlib import Path

import pytest
from helpers import CACHE

from qwen_humaneval import prompts
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.datasets import load_problems, mbpp_entry_point
from qwen_humaneval.evaluation import evaluate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mbpp" / "mbpp.jsonl"


@pytest.fixture
def mbpp(monkeypatch):
    if not SHARED.exists():
        pytest.skip(
            "../shared/data/mbpp/mbpp.jsonl is not beside this checkout (set MBPP_PATH to run MBPP)"
        )
    monkeypatch.setenv("MBPP_PATH", str(SHARED))


def test_splits_and_problem_shape(mbpp):
    test, train = load_problems("mbpp", CACHE), load_problems("mbpp-train", CACHE)
    assert (
        list(test)[:2] == ["Mbpp/11", "Mbpp/12"]
        and list(test)[-1] == "Mbpp/510"
        and len(test) == 500
    )
    assert list(train)[0] == "Mbpp/601" and list(train)[-1] == "Mbpp/974" and len(train) == 374
    problem = test["Mbpp/11"]
    assert problem["entry_point"] == "remove_Occ"
    assert problem["prompt"].startswith(
        '"""\nWrite a python function to remove first and last occurrence'
    )
    assert (
        all(t in problem["prompt"] for t in problem["test_list"]) and len(problem["test_list"]) == 3
    )
    assert problem["test"].strip().splitlines() == problem["test_list"]
    # prompt + reference is one valid program, as prompt + completion will be
    for p in test.values():
        ast.parse(p["prompt"] + p["canonical_solution"])


def test_entry_point_is_the_tested_function_not_a_builtin():
    code = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n"
    assert (
        mbpp_entry_point(code, ["assert set(similar_elements((3, 4), (4, 5))) == set((4,))"])
        == "similar_elements"
    )
    with pytest.raises(ValueError):
        mbpp_entry_point(code, ["assert len([1]) == 1"])


def test_a_modified_copy_is_refused_naming_the_file(tmp_path, monkeypatch):
    if not SHARED.exists():
        pytest.skip("../shared/data/mbpp/mbpp.jsonl is not beside this checkout")
    copy = tmp_path / "mbpp.jsonl"
    shutil.copy(SHARED, copy)
    with open(copy, "a") as f:
        f.write("\n")
    monkeypatch.setenv("MBPP_PATH", str(copy))
    with pytest.raises(ArtifactError, match=f"{copy}: sha256"):
        load_problems("mbpp", CACHE)
    monkeypatch.setenv("MBPP_PATH", str(tmp_path / "missing.jsonl"))
    with pytest.raises(ArtifactError, match="missing.jsonl: no such file"):
        load_problems("mbpp", CACHE)


def test_mbpp_programs_stop_at_tests_not_at_comments():
    assert "\n#" in prompts.stops_for("humaneval") and "\n#" not in prompts.stops_for("mbpp")
    assert "\nassert " in prompts.stops_for("mbpp-train")


def test_the_sandbox_runs_mbpp_asserts(mbpp, tmp_path):
    """A right completion passes, a wrong one fails on its assert, a whole-program `solution` is run
    as it is, and a task whose reference cannot pass here (Mbpp/367 builds the candidate's own Node
    class in its setup code) is an infrastructure failure, not the model's."""
    problems = {
        t: p
        for t, p in load_problems("mbpp", CACHE).items()
        if t in ("Mbpp/11", "Mbpp/12", "Mbpp/367")
    }
    right = problems["Mbpp/11"]["canonical_solution"]
    samples = [
        {"task_id": "Mbpp/11", "sample": 0, "completion": right},
        {
            "task_id": "Mbpp/11",
            "sample": 1,
            "completion": "def remove_Occ(s, ch):\n    return s.replace(ch, '', 1)\n",
        },
        {
            "task_id": "Mbpp/12",
            "sample": 0,
            "solution": "def sort_matrix(m):\n    return sorted(m, key=sum)\n",
        },
        {
            "task_id": "Mbpp/367",
            "sample": 0,
            "completion": problems["Mbpp/367"]["canonical_solution"],
        },
    ]
    solutions = tmp_path / "solutions.jsonl"
    solutions.write_text("".join(json.dumps(s) + "\n" for s in samples))
    results = evaluate(
        solutions,
        tmp_path / "results.jsonl",
        dataset="mbpp",
        problems=problems,
        selfcheck_cache=tmp_path / "selfcheck",
        cache_dir=CACHE,
    )
    verdicts = {(r["task_id"], r["completion_id"]): r for r in results}
    assert verdicts[("Mbpp/11", 0)]["category"] == "passed"
    assert (
        verdicts[("Mbpp/11", 1)]["category"] == "model"
        and "AssertionError" in verdicts[("Mbpp/11", 1)]["result"]
    )
    assert verdicts[("Mbpp/12", 0)]["category"] == "passed"
    assert verdicts[("Mbpp/367", 0)]["category"] == "infrastructure"
