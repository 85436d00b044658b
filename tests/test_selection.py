"""Selection, repair, retry and resume logic without a model server.

The model is replaced by ScriptedClient, which answers each chat request with the next scripted
text: the real model cannot be made to give the answers a selection test needs. Everything else is
real: the sandbox runs the candidates, a real HTTP server on 127.0.0.1 answers the client, real
files.
"""

import json

import pytest
from helpers import CACHE
from http_helpers import JsonHandler, serving
from scripted import ALWAYS_THREE, PROBLEM, RIGHT, WRONG, ScriptedClient, solved

from qwen_humaneval import strategies
from qwen_humaneval.client import ChatClient, PromptTooLong, ServerError
from qwen_humaneval.generation import generate
from qwen_humaneval.jsonl_io import InputError
from qwen_humaneval.sandbox.pool import SandboxPool


@pytest.fixture(scope="module")
def sandbox():
    with SandboxPool(2, CACHE) as pool:
        yield pool


def test_codet_picks_the_largest_consensus(sandbox):
    tests = "1, 1) == 2\nassert add(2, 3) == 5\nassert add(0, 0) == 0\n```"
    client = ScriptedClient([WRONG, RIGHT, ALWAYS_THREE, RIGHT, WRONG, tests])
    record = strategies.codet(PROBLEM, client, strategies.Sampling(), seed=1, sandbox=sandbox)
    # the chosen candidate's own answer
    assert record["completion"] == "    return a + b\n" and record["raw"] == RIGHT
    # the docstring example + 3 written
    assert record["codet_consensus"] == 2 and record["codet_tests"] == 4
    assert record["codet_tests_passed"] == 4
    assert len(client.calls) == 2 and client.calls[-1]["prefill"] == "```python\nassert add("
    # the candidates: one request, one prefill
    assert client.calls[0]["n"] == 5 and client.calls[0]["one_prefill"]
    assert record["requests"] == 2


def test_codet_breaks_a_tie_by_the_earliest_candidate(sandbox):
    """{1 candidate x 2 tests} against {2 candidates x 1 test}: equal scores, the earlier group
    wins."""
    # with the docstring's add(1, 2) == 3: ALWAYS_THREE passes 1, RIGHT passes 2
    tests = "2, 2) == 4\n```"
    client = ScriptedClient([RIGHT, ALWAYS_THREE, ALWAYS_THREE, WRONG, WRONG, tests])
    record = strategies.codet(
        PROBLEM, client, strategies.Sampling(candidates=5), seed=1, sandbox=sandbox
    )
    assert record["completion"] == "    return a + b\n" and record["codet_consensus"] == 1
    client = ScriptedClient([ALWAYS_THREE, RIGHT, ALWAYS_THREE, WRONG, WRONG, tests])
    record = strategies.codet(
        PROBLEM, client, strategies.Sampling(candidates=5), seed=1, sandbox=sandbox
    )
    assert record["completion"] == "    return 3\n" and record["codet_consensus"] == 2


def test_codet_without_any_test_keeps_the_first_candidate(sandbox):
    problem = {**PROBLEM, "prompt": 'def add(a, b):\n    """Add two numbers."""\n'}
    client = ScriptedClient([WRONG, RIGHT, RIGHT, RIGHT, RIGHT, "not a test\n```"])
    record = strategies.codet(problem, client, strategies.Sampling(), seed=1, sandbox=sandbox)
    assert record["completion"] == "    return a - b\n" and record["codet_tests"] == 0


def test_self_repair_fixes_from_the_failing_example(sandbox):
    client = ScriptedClient(
        [WRONG, "The sign was wrong.\n```python\ndef add(a, b):\n    return a + b\n```"]
    )
    record = strategies.self_repair(PROBLEM, client, strategies.Sampling(), seed=1, sandbox=sandbox)
    assert (
        "return a + b" in record["completion"]
        and record["examples_failed"] == 0
        and record["repair_rounds"] == 1
    )
    feedback = client.calls[1]["messages"][-1]["content"]
    assert "add(1, 2) returned -1, expected 3" in feedback  # the model is shown the failing call


def test_self_repair_keeps_the_best_candidate_when_repairs_get_no_better(sandbox):
    worse = "```python\ndef add(a, b):\n    raise ValueError\n```"
    client = ScriptedClient([ALWAYS_THREE.replace("3", "4"), worse, worse])
    record = strategies.self_repair(
        PROBLEM, client, strategies.Sampling(repair_rounds=2), seed=1, sandbox=sandbox
    )
    assert (
        record["completion"] == "    return 4\n"
        and record["repair_rounds"] == 2
        and record["examples_failed"] == 1
    )


def test_self_repair_leaves_a_passing_answer_alone(sandbox):
    client = ScriptedClient([RIGHT])
    record = strategies.self_repair(PROBLEM, client, strategies.Sampling(), seed=1, sandbox=sandbox)
    assert (
        record["completion"] == "    return a + b\n"
        and record["repair_rounds"] == 0
        and len(client.calls) == 1
    )


# -------------------------------------------------- mbr-exec: greedy + samples, examples, behaviour
SWAPPED = "    return b + a\n```"  # RIGHT written otherwise: the same behaviour
DOUBLED = "    return a + a\n```"  # passes add(1, 2)? no: 2. Fails the example.
THREE_TOO = "    return 3 if a else 3\n```"  # ALWAYS_THREE written otherwise


mbr = solved(strategies.mbr_exec)
adaptive = solved(strategies.mbr_exec_adaptive)
probe = solved(strategies.mbr_exec_probe)


def test_mbr_exec_keeps_the_behaviour_most_candidates_share(sandbox):
    record, client = mbr(PROBLEM, [ALWAYS_THREE, RIGHT, THREE_TOO, SWAPPED, RIGHT, WRONG], sandbox)
    # ALWAYS_THREE and THREE_TOO pass the docstring's add(1, 2) == 3 as RIGHT does, and only other
    # inputs tell them apart: 3 candidates compute a + b, 2 always 3; WRONG failed the example and
    # never voted.
    assert record["completion"] == "    return a + b\n" and record["mbr_pick"] == 1
    assert (
        record["mbr_consensus"] == 3
        and record["mbr_behaviours"] == 2
        and record["mbr_distinct"] == 5
    )
    assert (
        record["mbr_examples"] == 1
        and record["mbr_examples_passed"] == 1
        and not record["mbr_example_fallback"]
    )
    assert record["mbr_inputs"] > 1 and len(record["mbr_candidates"]) == 6
    greedy, sampled = client.calls
    # the greedy answer is always in the pool
    assert greedy["n"] == 1 and greedy["temperature"] == 0.0
    assert sampled["n"] == 5 and sampled["temperature"] == 0.8 and sampled["one_prefill"]
    assert record["requests"] == 2


def test_mbr_exec_ties_go_to_the_greedy_answer(sandbox):
    record, _ = mbr(PROBLEM, [ALWAYS_THREE, RIGHT, THREE_TOO, SWAPPED, WRONG, WRONG], sandbox)
    # 2 against 2: the greedy answer's side
    assert record["mbr_pick"] == 0 and record["mbr_consensus"] == 2
    record, _ = mbr(PROBLEM, [WRONG, RIGHT, THREE_TOO, SWAPPED, ALWAYS_THREE, WRONG], sandbox)
    # greedy failed the example: among the 2-2 tie, the earliest candidate
    assert record["mbr_pick"] == 1


def test_mbr_exec_falls_back_when_no_candidate_passes_the_examples(sandbox):
    wrong_doc = {
        **PROBLEM,
        "prompt": PROBLEM["prompt"].replace("    3\n", "    4\n"),
    }  # HumanEval/47 has one like it
    record, _ = mbr(wrong_doc, [WRONG, RIGHT, SWAPPED, RIGHT, DOUBLED, ALWAYS_THREE], sandbox)
    assert record["mbr_example_fallback"] and record["mbr_examples_passed"] == 0
    # every candidate voted; a + b is the majority
    assert record["mbr_pick"] == 1 and record["mbr_consensus"] == 3


def test_mbr_exec_counts_identical_code_once_to_run_and_each_time_to_vote(sandbox):
    record, _ = mbr(
        PROBLEM, [ALWAYS_THREE, ALWAYS_THREE, ALWAYS_THREE, RIGHT, SWAPPED, WRONG], sandbox
    )
    assert record["mbr_pick"] == 0 and record["mbr_consensus"] == 3 and record["mbr_distinct"] == 4


def test_mbr_exec_without_examples_keeps_the_greedy_answer(sandbox):
    problem = {**PROBLEM, "prompt": 'def add(a, b):\n    """Add two numbers."""\n'}
    record, _ = mbr(problem, [WRONG, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT], sandbox)
    # no input to compare on: nothing to vote with
    assert record["mbr_pick"] == 0 and record["mbr_inputs"] == 0


def test_mbr_exec_adaptive_keeps_a_greedy_answer_that_passes_the_examples(sandbox):
    record, client = adaptive(PROBLEM, [RIGHT, WRONG, WRONG], sandbox, candidates=2)
    assert len(client.calls) == 1 and record["requests"] == 1 and not record["mbr_sampled"]
    assert record["completion"] == "    return a + b\n" and record["mbr_candidates"] == [
        record["completion"]
    ]
    assert record["mbr_examples"] == record["mbr_examples_passed"] == 1


def test_mbr_exec_adaptive_samples_when_the_greedy_answer_fails_an_example(sandbox):
    record, client = adaptive(PROBLEM, [WRONG, RIGHT, SWAPPED, ALWAYS_THREE], sandbox, candidates=3)
    assert record["mbr_sampled"] and record["requests"] == 2 and client.calls[1]["n"] == 3
    assert (
        record["mbr_pick"] == 1
        and record["mbr_consensus"] == 2
        and len(record["mbr_candidates"]) == 4
    )


def test_mbr_exec_adaptive_without_examples_samples_only_if_calls_can_be_compared(sandbox):
    no_example = {**PROBLEM, "prompt": 'def add(a, b):\n    """Add two numbers."""\n'}
    record, client = adaptive(no_example, [WRONG, RIGHT, RIGHT], sandbox, candidates=2)
    # nothing to run candidates on: no vote possible
    assert len(client.calls) == 1 and not record["mbr_sampled"]
    shown = {**PROBLEM, "prompt": 'def add(a, b):\n    """Add two numbers, as add(1, 2) does."""\n'}
    record, client = adaptive(shown, [WRONG, RIGHT, SWAPPED], sandbox, candidates=2)
    assert record["mbr_sampled"] and record["mbr_pick"] == 1 and record["mbr_inputs"] > 1


# A whole program (a completion starting with a newline) that raises at load time with the text of a
# checks verdict in which nothing failed.
SPOOF = "\nraise AssertionError('failed checks [] of 1')\n"
SPOOF_TOO = "\nraise AssertionError('failed checks [] of 1')  # the same, written twice\n"


def test_a_candidate_that_does_not_load_never_counts_as_passing_an_example(sandbox):
    """The examples passed are the judge's facts, not the verdict's text, which the candidate
    wrote."""
    from qwen_humaneval.examples import extract_checks, failed_checks
    from qwen_humaneval.selection import choose, run_checks

    checks = extract_checks(PROBLEM["prompt"], "add")
    assert failed_checks(run_checks(sandbox, PROBLEM, SPOOF, checks), 1) == {0}
    pick, info = choose(PROBLEM, [SPOOF, SPOOF_TOO, "    return a + b\n"], sandbox)
    assert pick == 2 and info["examples_passed"] == 1


@pytest.mark.parametrize(
    "output",
    [
        "10 ** 5000",
        "{10 ** 5000: 1}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "float('nan')",
        "'\\ud800'",
        "{frozenset({10 ** 5000}): (1j,)}",
    ],
)
def test_huge_and_strange_outputs_are_a_behaviour_not_a_crash(sandbox, output):
    from qwen_humaneval.selection import choose

    # passes the example, then the odd output
    odd = f"    return 3 if (a, b) == (1, 2) else {output}\n"
    pick, info = choose(PROBLEM, [odd, odd + "    # again\n", "    return a + b\n"], sandbox)
    assert pick == 0 and info["behaviours"] == 2 and info["consensus"] == 2


def test_a_candidate_slowed_past_its_limit_runs_again_with_a_longer_one(sandbox):
    """The vote must not change with the machine's load (a live vote once saw a candidate time out
    that the replay on an idle machine ran in time): an outputs job that times out runs once more
    with OUTPUTS_RETRY_FACTOR times the limit; one that never ends still times out."""
    from qwen_humaneval.config import OUTPUTS_RETRY_FACTOR
    from qwen_humaneval.selection import run_outputs

    slow = "    import time\n    time.sleep(1.5)\n    return a + b\n"
    endless = "    while True:\n        pass\n"
    assert OUTPUTS_RETRY_FACTOR * 1.0 > 1.5 * 2
    verdict = run_outputs(sandbox, PROBLEM, slow, [[1, 2]], timeout=1.0)
    assert verdict["result"] == "passed" and verdict["duration"] >= 1.5
    assert run_outputs(sandbox, PROBLEM, endless, [[1, 2]], timeout=1.0)["result"] == "timed out"


def test_each_strategy_has_its_own_candidate_count():
    assert (
        strategies.get("mbr-exec-adaptive").candidates == 10
        and strategies.get("codet").candidates == 5
    )


def test_behaviour_inputs_are_the_examples_then_seeded_mutations():
    from qwen_humaneval.selection import behaviour_inputs

    inputs = behaviour_inputs([[1, "ab"], [[1, 2], 0.5]], limit=6, seed=3)
    assert inputs[:2] == [[1, "ab"], [[1, 2], 0.5]] and len(inputs) == 8
    # the same seed, the same inputs
    assert inputs == behaviour_inputs([[1, "ab"], [[1, 2], 0.5]], limit=6, seed=3)
    shapes = {(int, str), (list, float)}  # one argument changed at a time, its type kept
    assert (
        all(tuple(type(a) for a in args) in shapes for args in inputs)
        and len({repr(i) for i in inputs}) == 8
    )
    assert behaviour_inputs([[True]], limit=10, seed=0) == [[True], [False]]


# ----------------------------------------------------------- the HTTP client, against a real server
class Scripted(JsonHandler):
    statuses: list[int] = []
    seen: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Scripted.seen.append(body)
        status = Scripted.statuses.pop(0) if Scripted.statuses else 200
        payload = (
            {
                "choices": [
                    {
                        "message": {"content": body["messages"][-1]["content"] + "    return 1\n"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3},
            }
            if status == 200
            else {"error": "scripted"}
        )
        # llama-server's answer to a prompt longer than a slot's context (it sends 400)
        if status == 413:
            status, payload = (
                400,
                {"error": {"code": 400, "type": "exceed_context_size_error", "n_ctx": 2048}},
            )
        self.send_json(status, json.dumps(payload).encode())


@pytest.fixture
def http_server():
    Scripted.statuses, Scripted.seen = [], []
    with serving(Scripted) as url:
        yield url


def test_client_retries_server_errors_then_succeeds(http_server):
    Scripted.statuses = [500, 429, 503]
    answer = ChatClient([http_server], "m", retries=4, backoff=0).chat(
        [{"role": "user", "content": "hi"}], prefill="def f():\n"
    )
    assert answer.text == "    return 1\n"  # the echoed prefill is cut off
    assert (answer.prompt_tokens, answer.completion_tokens) == (7, 3) and len(Scripted.seen) == 4
    assert Scripted.seen[0]["continue_final_message"] is True


def test_client_does_not_retry_a_bad_request(http_server):
    Scripted.statuses = [400]
    with pytest.raises(ServerError, match="HTTP 400"):
        ChatClient([http_server], "m", retries=4, backoff=0).chat(
            [{"role": "user", "content": "hi"}]
        )
    assert len(Scripted.seen) == 1


def test_a_prompt_longer_than_the_context_is_its_own_error(http_server):
    Scripted.statuses = [413]
    with pytest.raises(PromptTooLong, match="does not fit the server's context"):
        ChatClient([http_server], "m", retries=4, backoff=0).chat(
            [{"role": "user", "content": "hi"}]
        )
    assert len(Scripted.seen) == 1


def test_client_gives_up_after_its_retries(http_server):
    Scripted.statuses = [503] * 10
    with pytest.raises(ServerError, match="giving up after 3 attempts: HTTP 503"):
        ChatClient([http_server], "m", retries=2, backoff=0).chat(
            [{"role": "user", "content": "hi"}]
        )
    assert len(Scripted.seen) == 3


# ------------------------------------------------------------------------------------------- resume
def test_generate_resumes_and_refuses_other_settings(tmp_path):
    problems = {f"Toy/{n}": {**PROBLEM, "task_id": f"Toy/{n}"} for n in range(3)}
    output = tmp_path / "solutions.jsonl"
    settings = {
        "strategy": "baseline",
        "temperature": 0.0,
        "seed": 1,
        "stops": ("\n```", "\n#"),
    }  # a tuple, as Sampling has
    sampling = strategies.Sampling()
    first = ScriptedClient([RIGHT] * 3)
    generate(
        problems,
        first,
        output,
        strategy="baseline",
        sampling=sampling,
        concurrency=2,
        recorded=settings,
    )
    lines = output.read_text().splitlines()
    # a crash: two records and half of one
    output.write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])
    again = ScriptedClient([WRONG])
    stats = generate(
        problems,
        again,
        output,
        strategy="baseline",
        sampling=sampling,
        concurrency=2,
        recorded=settings,
    )
    assert len(again.calls) == 1 and stats["samples"] == 3 and stats["generated_now"] == 1
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["Toy/0", "Toy/1", "Toy/2"]
    with pytest.raises(InputError, match="temperature: 0.0 -> 0.8"):
        generate(
            problems,
            ScriptedClient([]),
            output,
            strategy="baseline",
            sampling=sampling,
            recorded={**settings, "temperature": 0.8},
        )


class TooLongFor(ScriptedClient):
    """A server whose context the prompt of one task does not fit (as Mbpp/493's asserts do not fit
    2048 tokens)."""

    def __init__(self, answers, too_long: str):
        super().__init__(answers)
        self.too_long = too_long

    def chat_n(self, messages, n, **params):
        if self.too_long in messages[-1]["content"]:
            raise PromptTooLong("the prompt does not fit the server's context: scripted")
        return super().chat_n(messages, n, **params)


def test_an_unanswerable_prompt_is_kept_and_judged_as_infrastructure(tmp_path):
    """The run goes on; the task keeps a sample saying why, and the evaluation leaves it out of the
    score."""
    from qwen_humaneval.evaluation import evaluate

    long_one = {
        **PROBLEM,
        "task_id": "Toy/1",
        "prompt": PROBLEM["prompt"].replace("Add two", "Add two long"),
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    }
    problems = {
        "Toy/0": {**long_one, "task_id": "Toy/0", "prompt": PROBLEM["prompt"]},
        "Toy/1": long_one,
    }
    output = tmp_path / "solutions.jsonl"
    stats = generate(
        problems,
        TooLongFor([RIGHT], "two long"),
        output,
        strategy="baseline",
        sampling=strategies.Sampling(),
        concurrency=2,
        recorded={"strategy": "baseline"},
    )
    records = {r["task_id"]: r for r in map(json.loads, output.read_text().splitlines())}
    assert stats["samples"] == 2 and records["Toy/0"]["completion"].strip() == "return a + b"
    assert (
        records["Toy/1"]["completion"] == "" and "context" in records["Toy/1"]["generation_error"]
    )
    results = evaluate(
        output,
        tmp_path / "results.jsonl",
        problems=problems,
        selfcheck_cache=tmp_path / "selfcheck",
        cache_dir=CACHE,
    )
    assert [(r["task_id"], r["category"]) for r in results] == [
        ("Toy/0", "passed"),
        ("Toy/1", "infrastructure"),
    ]


class FailsFor(ScriptedClient):
    """A live server on which one task's requests fail every retry (or, dead=True, a server that is
    gone)."""

    def __init__(self, answers, failing: str, dead: bool = False):
        super().__init__(answers)
        self.failing, self.dead = failing, dead

    def chat_n(self, messages, n, **params):
        if self.failing in messages[-1]["content"]:
            raise ServerError("giving up after 5 attempts: scripted")
        return super().chat_n(messages, n, **params)

    def alive(self) -> bool:
        return not self.dead


def test_a_task_failing_every_retry_on_a_live_server_is_named_left_out_and_asked_again(tmp_path):
    """make all ends with a report: the task is an infrastructure failure; the next run generates
    it."""
    from qwen_humaneval.evaluation import evaluate

    problems = {
        f"Toy/{n}": {
            **PROBLEM,
            "task_id": f"Toy/{n}",
            "prompt": PROBLEM["prompt"].replace("Add", f"Add{n}"),
            "canonical_solution": "    return a + b\n",
            "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
        }
        for n in range(3)
    }
    output, settings = tmp_path / "solutions.jsonl", {"strategy": "baseline"}
    run = dict(
        strategy="baseline", sampling=strategies.Sampling(), concurrency=2, recorded=settings
    )
    stats = generate(problems, FailsFor([RIGHT, RIGHT], "Add1"), output, **run)
    assert stats["generation_failures"] == ["Toy/1"] and stats["samples"] == 3
    records = {r["task_id"]: r for r in map(json.loads, output.read_text().splitlines())}
    assert records["Toy/1"]["retryable"] and "giving up" in records["Toy/1"]["generation_error"]
    results = evaluate(
        output,
        tmp_path / "results.jsonl",
        problems=problems,
        selfcheck_cache=tmp_path / "selfcheck",
        cache_dir=CACHE,
    )
    assert [r["category"] for r in results] == ["passed", "infrastructure", "passed"]
    again = ScriptedClient([RIGHT])
    stats = generate(problems, again, output, **run)
    assert (
        len(again.calls) == 1 and stats["generated_now"] == 1 and "generation_failures" not in stats
    )
    assert [r.get("retryable") for r in map(json.loads, output.read_text().splitlines())] == [
        None
    ] * 3
    # a dead server stops the run (resumable), it does not mark tasks
    with pytest.raises(ServerError):
        generate(problems, FailsFor([RIGHT], "Add", dead=True), tmp_path / "other.jsonl", **run)


def test_select_from_runs_chooses_over_a_greedy_and_a_sampled_run(tmp_path):
    """make select: the real HumanEval/0 prompt, the real sandbox, answers written here."""
    from qwen_humaneval.manifest import write_manifest
    from qwen_humaneval.select_runs import select_from_runs

    right = (
        "    for i, a in enumerate(numbers):\n        for b in numbers[i + 1:]:\n            if "
        "abs(a - b) < threshold:\n                return True\n    return False\n"
    )
    right_too = (
        "    s = sorted(numbers)\n    return any(b - a < threshold for a, b in zip(s, s[1:]))\n"
    )
    wrong = "    return len(numbers) > 1\n"
    never = "    return False\n"
    greedy, samples = tmp_path / "greedy.jsonl", tmp_path / "samples.jsonl"
    greedy.write_text(
        json.dumps({"task_id": "HumanEval/0", "sample": 0, "completion": never}) + "\n"
    )
    write_manifest(greedy, "generate", {"temperature": 0.0, "dataset": "humaneval", "seed": 1})
    samples.write_text(
        "".join(
            json.dumps({"task_id": "HumanEval/0", "sample": s, "completion": c}) + "\n"
            for s, c in enumerate([right, wrong, right_too, never, right, never])
        )
    )
    write_manifest(samples, "generate", {"temperature": 0.8, "dataset": "humaneval", "seed": 1})
    out = tmp_path / "picked.jsonl"
    stats = select_from_runs(greedy, samples, out, candidates=5, cache_dir=CACHE)
    record = json.loads(out.read_text())
    # never passes one example of two, wrong the other one; the three right answers pass both.
    assert (
        record["completion"] == right and record["mbr_pick"] == 1 and record["mbr_consensus"] == 3
    )
    assert len(record["mbr_candidates"]) == 6 and stats == {"tasks": 1, "picked_greedy": 0}
    with pytest.raises(InputError, match="6 samples, 7 wanted"):
        select_from_runs(greedy, samples, out, candidates=7, cache_dir=CACHE)
    write_manifest(greedy, "generate", {"temperature": 0.8})
    with pytest.raises(InputError, match="not a greedy run"):
        select_from_runs(greedy, samples, out, cache_dir=CACHE)


def test_mbr_exec_probe_keeps_a_greedy_answer_its_probes_agree_with(sandbox):
    # SWAPPED behaves as RIGHT; WRONG fails the example and has no say
    record, client = probe(PROBLEM, [RIGHT, SWAPPED, WRONG], sandbox, candidates=4, probe=2)
    assert [c["n"] for c in client.calls] == [1, 2] and client.calls[1]["temperature"] == 0.8
    assert not record["mbr_sampled"] and record["mbr_probe_agreed"] and record["mbr_pick"] == 0
    assert record["completion"] == "    return a + b\n" and len(record["mbr_candidates"]) == 3


def test_mbr_exec_probe_questions_a_greedy_answer_that_only_passes_the_examples(sandbox):
    # ALWAYS_THREE passes add(1, 2) == 3; a probe that adds disagrees on the mutated inputs, so the
    # pool is filled up to 4 candidates and a + b wins 3 to 1
    answers = [ALWAYS_THREE, RIGHT, WRONG, SWAPPED, RIGHT]
    record, client = probe(PROBLEM, answers, sandbox, candidates=4, probe=2)
    assert [c["n"] for c in client.calls] == [1, 2, 2] and record["requests"] == 3
    assert client.calls[1]["seed"] != client.calls[2]["seed"]  # the fill is not the probe again
    assert record["mbr_sampled"] and record["mbr_probe_agreed"] is False
    assert record["mbr_pick"] == 1 and record["mbr_consensus"] == 3
    assert len(record["mbr_candidates"]) == 5


def test_mbr_exec_probe_samples_the_full_pool_when_the_greedy_answer_fails(sandbox):
    record, client = probe(PROBLEM, [WRONG, RIGHT, SWAPPED, ALWAYS_THREE], sandbox, candidates=3)
    assert [c["n"] for c in client.calls] == [1, 3] and record["mbr_sampled"]
    assert record["mbr_pick"] == 1
    no_example = {**PROBLEM, "prompt": 'def add(a, b):\n    """Add two numbers."""\n'}
    record, client = probe(no_example, [WRONG], sandbox, candidates=3)
    assert len(client.calls) == 1 and not record["mbr_sampled"]  # nothing to run a probe on
