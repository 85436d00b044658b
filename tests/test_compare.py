"""`make compare RUNS=...`: the table over runs already made, with the columns of the dataset they
were made on."""

import json
from pathlib import Path

import pytest

from qwen_humaneval import compare
from qwen_humaneval.manifest import write_manifest


def run_folder(
    root: Path, name: str, dataset: str, verdicts: dict[str, tuple[bool, bool]], files: list[str]
) -> Path:
    """A run folder as generate and evaluate leave it: solutions with their manifest, and each
    results file (verdicts: task -> (passed, base_passed))."""
    folder = root / name
    folder.mkdir()
    solutions = folder / "solutions.jsonl"
    lines = [
        {"task_id": t, "completion": "pass", "completion_tokens": 10, "prompt_tokens": 5}
        for t in verdicts
    ]
    solutions.write_text("".join(json.dumps(r) + "\n" for r in lines))
    write_manifest(
        solutions, "generate", {"dataset": dataset, "strategy": name}, stats={"wall_seconds": 60}
    )
    for filename in files:
        records = [
            {
                "task_id": t,
                "completion_id": 0,
                "passed": p,
                "base_passed": b,
                "result": "passed" if p else "failed",
            }
            for t, (p, b) in verdicts.items()
        ]
        (folder / filename).write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


@pytest.fixture
def output(tmp_path):
    return tmp_path / "out"


def test_mbppplus_runs_are_compared_on_base_and_plus(tmp_path, output):
    greedy = {"Mbpp/2": (True, True), "Mbpp/3": (False, True), "Mbpp/4": (False, False)}
    better = {"Mbpp/2": (True, True), "Mbpp/3": (True, True), "Mbpp/4": (False, True)}
    first = run_folder(tmp_path, "greedy", "mbppplus", greedy, ["results_mbppplus.jsonl"])
    second = run_folder(tmp_path, "best", "mbppplus", better, ["results_mbppplus.jsonl"])
    rows = compare.compare_folders([first, second], output)
    assert rows[1]["scores_pct"] == {"MBPP+ base": 100.0, "MBPP+": pytest.approx(66.67)}
    assert rows[1]["vs_first"]["MBPP+"]["fixed"] == ["Mbpp/3"]
    assert rows[1]["vs_first"]["MBPP+ base"]["fixed"] == ["Mbpp/4"]
    table = (output / "compare.md").read_text()
    assert (
        "| strategy | MBPP+ base pass@1 | MBPP+ pass@1 |" in table
        and (output / "compare.png").exists()
    )


def test_humaneval_runs_need_both_results_files(tmp_path, output):
    verdicts = {"HumanEval/0": (True, True)}
    complete = run_folder(
        tmp_path, "a", "humaneval", verdicts, ["results.jsonl", "results_humanevalplus.jsonl"]
    )
    rows = compare.compare_folders([complete], output)
    assert rows[0]["scores_pct"] == {"HumanEval": 100.0, "HumanEval+": 100.0}
    partial = run_folder(tmp_path, "b", "humaneval", verdicts, ["results.jsonl"])
    with pytest.raises(FileNotFoundError, match="results_humanevalplus.jsonl: missing"):
        compare.compare_folders([complete, partial], output)
