"""Paired statistics: exact McNemar against known values, the bootstrap interval, flips."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from helpers import script_command

from qwen_humaneval.paired import (
    bootstrap_interval,
    compare_runs,
    describe,
    mcnemar_exact,
    task_scores,
)

ROOT = Path(__file__).resolve().parent.parent


def test_mcnemar_exact_matches_the_binomial_test():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    # 1 vs 9 discordant pairs: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11/1024
    assert math.isclose(mcnemar_exact(1, 9), 22 / 1024)
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)
    # scipy.stats.binomtest(0, 6).pvalue == 0.03125
    assert math.isclose(mcnemar_exact(0, 6), 2 / 64)


def test_bootstrap_interval_brackets_the_mean_and_shrinks_with_more_tasks():
    few = [1.0, 0.0, 0.0, 1.0, 0.0] * 4
    many = few * 20
    low, high = bootstrap_interval(few)
    assert low < sum(few) / len(few) < high
    low_many, high_many = bootstrap_interval(many)
    assert high_many - low_many < (high - low) / 2
    assert bootstrap_interval([0.0] * 30) == (0.0, 0.0)  # no differences: no uncertainty
    assert bootstrap_interval(few, seed=1) == bootstrap_interval(few, seed=1)  # reproducible


def test_compare_runs_pairs_tasks_and_lists_flips():
    before = {f"HumanEval/{i}": float(i % 2) for i in range(20)}
    after = dict(before, **{"HumanEval/0": 1.0, "HumanEval/2": 1.0, "HumanEval/3": 0.0})
    after["HumanEval/99"] = 1.0  # judged in one run only: not paired
    c = compare_runs(before, after)
    assert c["tasks"] == 20 and c["only_in_one_run"] == 1
    assert c["fixed"] == ["HumanEval/0", "HumanEval/2"] and c["broken"] == ["HumanEval/3"]
    assert c["difference"] == 5.0 and c["ci95"][0] <= 5.0 <= c["ci95"][1]
    assert c["mcnemar_p"] == 1.0 and "not significant" in describe(c)
    big = compare_runs({f"T/{i}": 0.0 for i in range(30)}, {f"T/{i}": 1.0 for i in range(30)})
    assert (
        big["mcnemar_p"] < 1e-8
        and big["ci95"] == [100.0, 100.0]
        and "significant at 5%" in describe(big)
    )


def test_task_scores_averages_samples():
    results = [
        {"task_id": "A/0", "passed": True},
        {"task_id": "A/0", "passed": False},
        {"task_id": "A/1", "passed": True},
    ]
    assert task_scores(results) == {"A/0": 0.5, "A/1": 1.0}


def test_report_with_a_baseline_prints_the_paired_comparison(tmp_path):
    import json
    import subprocess

    def results(path, passed):
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "task_id": f"HumanEval/{i}",
                        "completion_id": 0,
                        "passed": ok,
                        "result": "passed" if ok else "failed: AssertionError",
                    }
                )
                + "\n"
                for i, ok in enumerate(passed)
            )
        )
        return path

    before = results(tmp_path / "before.jsonl", [False] * 8 + [True] * 12)
    after = results(tmp_path / "after.jsonl", [True] * 8 + [True] * 12)
    out = subprocess.run(
        script_command("report.py", "--results", after, "--baseline", before),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Successful tasks: 20/20" in out
    assert "+40.00 points" in out and "8 fixed, 0 broken" in out and "McNemar p = 0.00781" in out
    assert (
        json.loads((tmp_path / "report.json").read_text())["summary"]["paired"]["fixed"][0]
        == "HumanEval/0"
    )


def test_make_compare_runs_tabulates_runs_already_made(tmp_path):
    """`make compare RUNS=a,b`: the table from two runs' files (written here in the evaluator's
    format), no server."""

    def run(name, strategy, passed):
        folder = tmp_path / name
        folder.mkdir()
        tasks = [f"HumanEval/{i}" for i in range(len(passed))]
        (folder / "solutions.jsonl").write_text(
            "".join(
                json.dumps(
                    {
                        "task_id": t,
                        "sample": 0,
                        "completion": "    pass\n",
                        "prompt_tokens": 10,
                        "completion_tokens": 5,
                        "requests": 2,
                    }
                )
                + "\n"
                for t in tasks
            )
        )
        (folder / "solutions.jsonl.manifest.json").write_text(
            json.dumps(
                {
                    "stage": "generate",
                    "settings": {"strategy": strategy},
                    "stats": {"wall_seconds_total": 120.0},
                }
            )
        )
        for results in ("results.jsonl", "results_humanevalplus.jsonl"):
            (folder / results).write_text(
                "".join(
                    json.dumps(
                        {
                            "task_id": t,
                            "completion_id": 0,
                            "passed": p,
                            "result": "passed" if p else "failed: AssertionError",
                            "category": "passed" if p else "failed",
                        }
                    )
                    + "\n"
                    for t, p in zip(tasks, passed)
                )
            )
        return folder

    greedy = run("greedy", "baseline", [True, False, False, True])
    better = run("better", "mbr-exec-adaptive", [True, True, True, False])
    out = tmp_path / "out"
    env = {**os.environ, "OUTPUT_DIR": str(out)}
    done = subprocess.run(
        [sys.executable, "scripts/compare.py", "--runs", f"{greedy},{better}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    table = (out / "compare.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| mbr-exec-adaptive"))
    assert f"`{better}`" in row and "| 75.00% | 75.00% | 2.0 min | 40 | 20 | 8 | 2/1 ; 2/1 |" in row
    assert "fixed HumanEval/1, HumanEval/2; broken HumanEval/3" in table
    missing = subprocess.run(
        [sys.executable, "scripts/compare.py", "--runs", str(tmp_path / "nothing")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "nothing/solutions.jsonl: missing" in missing.stderr
