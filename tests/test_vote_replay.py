"""bench.vote_replay: other votes and early stopping on a run's own pools (hand-made evidence for
the rules; the real sandbox and HumanEval's tests for the replay of a small run)."""

import json

from helpers import CACHE
from test_pool_ceiling import CLOSE_RIGHT, CLOSE_WRONG, record

from bench.vote_replay import agreement, overtaken_stop, replay, stopped_at
from qwen_humaneval.selection import Evidence, tally
from qwen_humaneval.settings import Settings


def test_agreement_counts_votes_input_by_input():
    # 3 candidates compute (1, 1, 1, 1); 2 differ from them on the last input only, 2 on two
    found = [
        Evidence([0, 1, 2], 1, ("1", "1", "1", "1")),
        Evidence([3, 4], 1, ("1", "1", "1", "2")),
        Evidence([5, 6], 1, ("1", "1", "2", "2")),
    ]
    behaviours = tally(found, 7)
    # majority: the three; agreement: 3 * 3/4 + 2 + 2 * 3/4 = 5.75 against 3 + 1.5 + 1 = 5.5
    assert min(agreement(behaviours)) == 3
    assert min(agreement(tally(found[:2], 7))) == 0  # 3 + 1.5 against 2 + 2.25


def test_two_rounds_stop_only_when_the_filter_is_at_its_top_and_the_lead_is_enough():
    # greedy fails the one example; samples 1-3 pass it and agree; samples 4-9 would too
    agreeing = [Evidence([0], 0, None), Evidence(list(range(1, 10)), 1, ("3",))]
    assert stopped_at(agreeing, examples=1, size=10, first=3, lead=3) == 4
    assert stopped_at(agreeing, examples=1, size=10, first=3, lead=4) == 10
    # the first round fails the example, a later sample passes it: never settled early
    failing = [Evidence([0, 1, 2, 3], 0, None), Evidence([4, 5], 1, None)]
    assert stopped_at(failing, examples=1, size=6, first=3, lead=1) == 6


def test_the_literal_rule_stops_when_the_rest_cannot_overtake():
    unanimous = [Evidence(list(range(11)), 1, None)]
    # after 6 of 11 agree, the other 5 cannot overtake them
    assert overtaken_stop(unanimous, examples=1, size=11) == 6
    split = [Evidence([0, 2, 4, 6, 8, 10], 1, ("a",)), Evidence([1, 3, 5, 7, 9], 1, ("b",))]
    assert overtaken_stop(split, examples=1, size=11) == 11


def test_the_replay_judges_every_rule_on_the_run_pools(tmp_path):
    records = [record("HumanEval/0", [CLOSE_WRONG] + [CLOSE_RIGHT] * 5, 1, True)]
    solutions = tmp_path / "solutions.jsonl"
    solutions.write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = replay(Settings(tmp_path / "out", CACHE), solutions, workers=2, judges=("humaneval",))
    by_rule = {row["rule"]: row for row in rows}
    assert by_rule["majority (the run's vote)"]["HumanEval"] == 1
    assert by_rule["majority (the run's vote)"]["samples"] == 5
    # greedy fails the examples, samples 1-3 agree: settled at lead 3 after 3 samples
    settled = by_rule["two rounds: 3 then the rest, settled at lead 3"]
    assert settled["samples"] == 3 and settled["HumanEval"] == 1 and settled["saved"] == 0.4
    assert (tmp_path / "out" / "bench_vote_humaneval.md").exists()
