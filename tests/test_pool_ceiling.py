"""bench.pool_ceiling: every candidate of a selection run judged, each task classed, the vote replayed
(the real sandbox and HumanEval's tests; hand-written pools stand in for a model's)."""

import json

from helpers import CACHE

from bench.pool_ceiling import ceiling
from qwen_humaneval.settings import Settings

CLOSE_RIGHT = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1 :])\n"
CLOSE_WRONG = "    return False\n"
TRUNCATE_WRONG = "    return 0.5\n"  # passes the docstring's one example, fails the hidden tests
SUBSTRING_WRONG = "    return [s for s in strings if substring in s[:2]]\n"  # passes both examples
SUBSTRING_RIGHT = "    return [s for s in strings if substring in s]\n"


def record(task_id, candidates, pick, sampled):
    return {
        "task_id": task_id,
        "sample": 0,
        "seed": 1234,
        "completion": candidates[pick],
        "mbr_candidates": json.dumps(candidates) if sampled else candidates,
        "mbr_pick": pick,
        "mbr_sampled": sampled,
    }


def test_each_task_is_classed_and_a_lost_vote_is_explained(tmp_path):
    records = [
        record("HumanEval/0", [CLOSE_WRONG, CLOSE_RIGHT, CLOSE_RIGHT], 1, True),
        record("HumanEval/2", [TRUNCATE_WRONG], 0, False),
        record("HumanEval/4", ["    return 0.0\n", "    return 1.0\n"], 0, True),
        record("HumanEval/7", [SUBSTRING_WRONG, SUBSTRING_WRONG, SUBSTRING_RIGHT], 0, True),
    ]
    solutions = tmp_path / "solutions.jsonl"
    solutions.write_text("".join(json.dumps(r) + "\n" for r in records))
    settings = Settings(output_dir=tmp_path / "out", cache_dir=CACHE)
    [row] = ceiling(settings, solutions, workers=2, judges=("humaneval",))
    assert (row["picked right"], row["pool right, picked wrong"]) == (1, 1)
    assert (row["no right candidate"], row["greedy only, wrong"], row["ceiling"]) == (1, 1, 2)
    account = (tmp_path / "out" / "bench_ceiling_humaneval.md").read_text()
    assert "  - HumanEval/7: winner " in account and "greedy only, wrong: HumanEval/2" in account
    # the replayed pick by run time: HumanEval/0's winner holds one distinct program; nothing moves
    assert row["picked right, fastest in the winner"] == 1 and "instead: 1 (no change)" in account


def test_the_pick_by_run_time_moves_to_a_clearly_faster_member_of_the_winning_behaviour():
    from bench.pool_ceiling import fastest_in_winner, replay
    from qwen_humaneval.sandbox.pool import SandboxPool

    problem = {
        "task_id": "Toy/1",
        "entry_point": "double",
        "prompt": 'def double(x):\n    """Twice x.\n    >>> double(2)\n    4\n    """\n',
    }
    slow = "    import time\n    time.sleep(0.05)\n    return 2 * x\n"
    fast, also_fast = "    return x + x\n", "    return 2 * x\n"
    with SandboxPool(2, CACHE) as sandbox:
        pool = {"candidates": [slow, fast], "pick": 0, "seed": 1}
        replayed = replay(problem, pool, sandbox, 4)
        assert fastest_in_winner(problem, pool, replayed, sandbox, inputs=4) == 1
        # one program written twice is timed once: nothing to choose between
        pool = {"candidates": [also_fast, also_fast], "pick": 0, "seed": 1}
        replayed = replay(problem, pool, sandbox, 4)
        assert fastest_in_winner(problem, pool, replayed, sandbox, inputs=4) == 0
