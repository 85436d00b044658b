"""JSONL repair and errors, the pass@k estimator, and the report's lines."""

import itertools
import json
import math
import subprocess
from pathlib import Path

import pytest
from helpers import script_command

from qwen_humaneval.jsonl_io import InputError, JsonlAppender, read_jsonl, repair_tail
from qwen_humaneval.passk import pass_at_k

ROOT = Path(__file__).resolve().parent.parent


def test_repair_tail_drops_only_the_half_written_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3, "b"')
    assert repair_tail(path) == len('{"a": 3, "b"')
    assert path.read_text() == '{"a": 1}\n{"a": 2}\n'
    assert repair_tail(path) == 0
    path.write_text('{"only": "partial')
    repair_tail(path)
    assert path.read_text() == ""


def test_appender_repairs_then_appends(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2')
    with JsonlAppender(path) as out:
        out.write({"a": 3})
    assert [r for _, r in read_jsonl(path)] == [{"a": 1}, {"a": 3}]


def test_a_second_writer_is_refused_not_interleaved(tmp_path):
    """Another process (a second `make generate` on the same OUTPUT) holding the file makes the
    appender refuse."""
    import subprocess
    import sys

    path = tmp_path / "x.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from qwen_humaneval.jsonl_io import "
            "JsonlAppender; a = JsonlAppender(Path(sys.argv[1])); print('holding', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(InputError, match="another process is writing it"):
            JsonlAppender(path)
    finally:
        holder.communicate("")
    with JsonlAppender(path) as out:  # free again once the other writer is gone
        out.write({"a": 1})
    assert [r for _, r in read_jsonl(path)] == [{"a": 1}]


def test_read_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"task_id": "a"}\n\n{"task_id": 5}\n')
    with pytest.raises(InputError, match=r"x.jsonl:3: field 'task_id' must be str, got int"):
        list(read_jsonl(path, required={"task_id": str}))


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    outcomes = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(range(n), k))
    return sum(any(outcomes[i] for i in d) for d in draws) / len(draws)


@pytest.mark.parametrize(
    "n, c, k", [(1, 0, 1), (1, 1, 1), (5, 2, 1), (5, 2, 3), (10, 3, 5), (10, 0, 10), (10, 9, 2)]
)
def test_pass_at_k_matches_brute_force(n, c, k):
    assert math.isclose(pass_at_k(n, c, k), brute_force_pass_at_k(n, c, k), rel_tol=1e-12)


def test_pass_at_k_needs_enough_samples():
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 5)


def test_report_prints_the_original_lines(tmp_path):
    results = tmp_path / "results.jsonl"
    rows = [
        {
            "task_id": f"HumanEval/{i}",
            "completion_id": 0,
            "passed": i % 3 != 0,
            "result": "passed" if i % 3 else "failed: AssertionError",
        }
        for i in range(164)
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = subprocess.run(
        [
            *script_command("report.py"),
            "--results",
            str(results),
            "--solutions",
            str(tmp_path / "none.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Evaluation completed. Successful tasks: 109/164\n" in out
    assert "Success rate: 66.46%\n" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["failure_kinds"] == {"passed": 109, "wrong answer (assertion)": 55}
    assert (tmp_path / "report.md").read_text().startswith("# Report: humaneval")


def test_report_with_several_samples_prints_pass_at_k(tmp_path):
    results = tmp_path / "results.jsonl"
    rows = [
        {
            "task_id": f"HumanEval/{t}",
            "completion_id": s,
            "passed": s < t,
            "result": "passed" if s < t else "timed out",
        }
        for t in range(4)
        for s in range(5)
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = subprocess.run(
        [*script_command("report.py"), "--results", str(results)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # per task c = 0, 1, 2, 3 of n = 5: pass@1 = mean(c / 5) = 30%
    assert "Successful tasks: 3/4 (solved by at least one of 5 samples)" in out
    assert "Success rate: 30.00%" in out and "pass@5: 75.00%" in out


def test_report_on_malformed_results_is_a_clear_error(tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text('{"task_id": "HumanEval/0", "completion_id": 0}\n')
    proc = subprocess.run(
        [*script_command("report.py"), "--results", str(results)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "results.jsonl:1: missing field 'passed'" in proc.stderr
