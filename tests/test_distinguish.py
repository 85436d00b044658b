"""mbr-exec-distinguish: the pool in two rounds (early stopping), and close votes decided by the
model's distinguishing inputs and verdicts (distinguish.py).

The model is ScriptedClient (scripted.py): the real model cannot be made to give the answers these
cases need. The sandbox is real: it runs every candidate and computes the results the judge sees.
"""

import pytest
from helpers import CACHE
from hypothesis import given
from hypothesis import strategies as st
from scripted import ALWAYS_THREE, PROBLEM, RIGHT, WRONG, ScriptedClient, solved

from qwen_humaneval import strategies
from qwen_humaneval.distinguish import close_pair, distinguish, model_inputs, shaped_like
from qwen_humaneval.sampling import Usage
from qwen_humaneval.sandbox.pool import SandboxPool

SWAPPED = "    return b + a\n```"
distinguished = solved(strategies.mbr_exec_distinguish)
# the model's continuation of the prefilled "```python\nadd(": calls, then a closing fence
PROPOSED = "4, 5)\nadd(10, 20)\nadd('a', 'b')\nadd([1], [2], [3])\n```"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxPool(2, CACHE) as pool:
        yield pool


def test_close_pair_is_the_leader_and_a_runner_up_within_the_margin():
    assert close_pair({"x": [1, 2, 3], "y": [4, 5]}, margin=1) == ([1, 2, 3], [4, 5])
    assert close_pair({"x": [1, 2, 3], "y": [4]}, margin=1) is None
    assert close_pair({"x": [1, 2, 3]}, margin=5) is None  # nothing to tell apart
    # a tie: the greedy answer's behaviour leads, as in the vote
    assert close_pair({"x": [3, 4], "y": [0, 5]}, margin=0) == ([0, 5], [3, 4])


def test_calls_keep_the_shape_of_the_docstring_examples():
    examples = [[1, 2], [[1.5, 2], "a"]]
    assert shaped_like([3, 4.5], examples)  # ints and floats are both numbers
    assert shaped_like([[], "xyz"], examples)  # an empty list fits a list of anything
    assert not shaped_like([[1, 2]], examples)  # one argument where the examples give two
    assert not shaped_like(["1", 2], examples)
    assert not shaped_like([["a"], "b"], examples)  # a list of strings, not of numbers
    assert shaped_like([object()], [])  # no example: nothing to hold it to


@given(st.lists(st.one_of(st.integers(), st.text(), st.lists(st.integers())), max_size=4))
def test_a_call_always_fits_its_own_shape(args):
    assert shaped_like(args, [args])


def test_model_inputs_are_the_calls_of_the_answer_without_results():
    client = ScriptedClient([PROPOSED + "\nadd(4, 5)"])
    usage = Usage()
    found = model_inputs(PROBLEM, client, 1, usage, ("code a", "code b"), 3, [[1, 2]])
    assert found == [[4, 5], [10, 20], ["a", "b"]] and usage.requests == 1
    asked = client.calls[0]["messages"][-1]["content"]
    assert "code a" in asked and "code b" in asked and "add(1, 2)" in asked
    assert client.calls[0]["prefill"].endswith("add(") and client.calls[0]["temperature"] == 0.0


def _judged(sandbox, answers: list[str], candidates: list[str], pair):
    candidates = [c.removesuffix("```") for c in candidates]  # as extracted from the answers
    client = ScriptedClient(answers)
    sampling = strategies.Sampling(judged_inputs=2)
    chosen, info = distinguish(
        PROBLEM, candidates, pair, ([[1, 2]], [[1, 2], [0, 0]]), client, sampling, 1, Usage(),
        sandbox,
    )  # fmt: skip
    return chosen, info, client


def test_the_runner_up_wins_only_when_every_verdict_prefers_it_in_both_orders(sandbox):
    # leader: always 3 (candidates 0, 1); runner-up: a + b (2). add(4, 5): 3 against 9.
    candidates = [ALWAYS_THREE, ALWAYS_THREE, RIGHT]
    pair = ([0, 1], [2])
    chosen, info, client = _judged(sandbox, [PROPOSED, " B", " A", " B", " A"], candidates, pair)
    assert chosen == [2] and info["distinguish_switched"] and info["distinguish_votes"] == [1, 1]
    # 'a', 'b' and the three lists do not fit add(1, 2)'s shape; two judged calls from the model
    assert info["distinguish_kept"] == 2 and info["distinguish_judged_from_model"] == 2
    first, swapped = client.calls[1]["messages"][-1]["content"], client.calls[2]["messages"]
    assert "add(4, 5)" in first and "A: 3\nB: 9" in first and "A: 9\nB: 3" in swapped[-1]["content"]
    # the same letter in both orders is a position, not a verdict: the leader stays
    chosen, info, _ = _judged(sandbox, [PROPOSED, " B", " B", " B", " B"], candidates, pair)
    assert chosen == [0, 1] and info["distinguish_votes"] == [0, 0]
    # one verdict for the runner-up, one undecided: not enough to overrule the count
    chosen, info, _ = _judged(sandbox, [PROPOSED, " B", " A", " A", " A"], candidates, pair)
    assert chosen == [0, 1] and info["distinguish_votes"] == [1, 0]


def test_without_usable_calls_from_the_model_the_vote_inputs_are_judged(sandbox):
    # the model proposes only calls of the wrong shape: the compared inputs where the two differ
    # (add(0, 0): 3 against 0; add(1, 2) gives 3 for both and is skipped) are judged instead
    candidates = [ALWAYS_THREE, ALWAYS_THREE, RIGHT]
    chosen, info, client = _judged(sandbox, ["'x')\n```", " B", " A"], candidates, ([0, 1], [2]))
    assert info["distinguish_kept"] == 0 and info["distinguish_judged_from_model"] == 0
    assert "add(0, 0)" in client.calls[1]["messages"][-1]["content"] and chosen == [2]


def test_a_settled_first_round_draws_no_more_samples(sandbox):
    # greedy fails add(1, 2) == 3; 3 samples agree and pass it: lead 3, settled
    record, client = distinguished(
        PROBLEM, [WRONG, RIGHT, SWAPPED, RIGHT], sandbox, candidates=10, first_round=3
    )
    assert [c["n"] for c in client.calls] == [1, 3] and record["mbr_settled"]
    assert record["mbr_pick"] == 1 and len(record["mbr_candidates"]) == 4
    assert "mbr_distinguish_votes" not in record  # one behaviour: nothing to decide


def test_an_unsettled_round_draws_the_rest_from_the_next_seeds(sandbox):
    answers = [WRONG, RIGHT, ALWAYS_THREE, WRONG] + [RIGHT, SWAPPED, RIGHT]
    record, client = distinguished(PROBLEM, answers, sandbox, candidates=6, first_round=3)
    assert [c["n"] for c in client.calls] == [1, 3, 3] and not record["mbr_settled"]
    assert client.calls[2]["seed"] == client.calls[1]["seed"] + 3  # samples 3.. continue 0..2
    # a + b: 4 against always-3's 1, not close: no judge asked
    assert record["mbr_pick"] == 1 and record["mbr_consensus"] == 4 and len(client.calls) == 3


class Counting:
    """The real sandbox, keeping the kind of each job it is given."""

    def __init__(self, sandbox):
        self.sandbox, self.jobs = sandbox, []

    def execute(self, job, timeout):
        self.jobs.append(job["kind"])
        return self.sandbox.execute(job, timeout)


def test_the_second_round_runs_only_the_programs_the_first_did_not(sandbox):
    from qwen_humaneval.selection import evidence, tally

    pool = [c.removesuffix("```") for c in [WRONG, RIGHT, ALWAYS_THREE, WRONG, RIGHT, SWAPPED]]
    counting = Counting(sandbox)
    first, _ = evidence(PROBLEM, pool[:4], counting, 24, 1)
    # 3 programs' examples; a + b and always-3 pass theirs and are compared
    assert sorted(counting.jobs) == ["checks"] * 3 + ["outputs"] * 2
    counting.jobs.clear()
    both, _ = evidence(PROBLEM, pool, counting, 24, 1, earlier=first)
    assert counting.jobs == ["checks", "outputs"]  # b + a, the one new program
    fresh, _ = evidence(PROBLEM, pool, sandbox, 24, 1)
    assert (
        tally(both, len(pool))
        == tally(fresh, len(pool))
        == {
            next(e.outputs for e in fresh if 1 in e.members): [1, 4, 5],
            next(e.outputs for e in fresh if 2 in e.members): [2],
        }
    )


def test_a_unanimous_round_that_fails_the_examples_is_not_settled(sandbox):
    # every first-round sample fails the example: a later one passing it would win, so draw on
    answers = [WRONG, WRONG, WRONG, WRONG] + [RIGHT, RIGHT, RIGHT]
    record, client = distinguished(PROBLEM, answers, sandbox, candidates=6, first_round=3)
    assert [c["n"] for c in client.calls] == [1, 3, 3] and record["mbr_pick"] == 4


def test_a_close_vote_is_decided_by_the_judge(sandbox):
    # after both rounds: always-3 (samples 1, 2) against a + b (sample 3) and WRONG filtered out;
    # the runner-up is within the margin, the model proposes add(4, 5) and prefers 9 both ways
    answers = [WRONG, ALWAYS_THREE, ALWAYS_THREE, RIGHT, WRONG] + [PROPOSED, " B", " A"]
    record, client = distinguished(
        PROBLEM,
        answers,
        sandbox,
        candidates=4,
        first_round=2,
        settled_lead=3,  # always-3 leads 2 to 0 after the first round: not settled at 3
        distinguish_margin=1,
        judged_inputs=1,
    )
    assert record["mbr_pick"] == 3 and record["mbr_distinguish_switched"]
    assert record["mbr_majority_pick"] == 1
    assert record["requests"] == 6 and not client.answers
