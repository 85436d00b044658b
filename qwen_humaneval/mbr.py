"""The mbr-exec family: sample candidates, run them, keep the behaviour most of them share
(selection.py). Every candidate is kept in the record, so what the pool held can be scored later."""

from .answers import direct_many, record, sampled_candidates
from .client import ChatClient, Completion
from .distinguish import close_pair, distinguish
from .examples import call_arguments, example_arguments, extract_checks, failed_checks
from .sampling import Sampling, Usage
from .selection import (
    choose,
    compared_inputs,
    evidence,
    ranked,
    record_fields,
    run_checks,
    settled,
    tally,
    vote,
)


def mbr_exec(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """The greedy answer and k samples (one request with `n`, after the greedy request left the
    prompt in the server's cache), then the behaviour most of them share (selection.py). Every
    candidate is kept in the record, so what the pool held can be scored later."""
    usage = Usage()
    return _mbr_choice(
        problem,
        client,
        sampling,
        seed,
        sandbox,
        usage,
        direct_many(problem, client, sampling, seed, usage, 1, temperature=0.0),
    )


def mbr_exec_adaptive(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox
) -> dict:
    """mbr-exec that samples only where the greedy answer gives a reason to: it fails one of the
    docstring's examples, or the docstring has no checkable example but shows calls to compare on.
    Elsewhere the greedy answer is kept after one request: a greedy answer passing every example is
    rarely replaced for the better (docs/results.md has the replay), and with nothing to run the
    candidates on, mbr-exec keeps the greedy answer anyway."""
    usage = Usage()
    greedy, _, kept = _gated_greedy(problem, client, sampling, seed, sandbox, usage)
    if kept:
        return kept
    return {
        **_mbr_choice(problem, client, sampling, seed, sandbox, usage, greedy),
        "mbr_sampled": True,
    }


def _gated_greedy(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox, usage: Usage
) -> tuple[list[tuple[str, Completion]], list, dict | None]:
    """mbr-exec-adaptive's gate: the greedy answer, the docstring's checks, and the record that
    keeps the greedy answer when it passes every example (or the docstring has nothing to run
    candidates on), else None."""
    greedy = direct_many(problem, client, sampling, seed, usage, 1, temperature=0.0)
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    if checks:
        verdict = run_checks(sandbox, problem, greedy[0][0], checks)
        suffices = not failed_checks(verdict, len(checks))
    else:
        suffices = not example_arguments(problem["prompt"], problem["entry_point"])
    if not suffices:
        return greedy, checks, None
    info = {"examples": len(checks), "examples_passed": len(checks), "sampled": False}
    return greedy, checks, record(*greedy[0], usage, **record_fields(0, [greedy[0][0]], info))


def mbr_exec_distinguish(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox
) -> dict:
    """mbr-exec-adaptive that draws its pool in two rounds and decides close votes with evidence.
    The gate is adaptive's. The first `sampling.first_round` samples come first; the rest are drawn
    unless the vote is settled: its leader passes every example and leads by `settled_lead`
    (samples i are seed + i either way, so a settled pool is the full pool's first samples).
    When the runner-up is within `distinguish_margin` candidates of the leader, the model's
    distinguishing inputs and its verdicts on the two results decide (distinguish.py)."""
    usage = Usage()
    greedy, checks, kept = _gated_greedy(problem, client, sampling, seed, sandbox, usage)
    if kept:
        return kept
    temperature, first = sampling.candidate_temperature, sampling.first_round
    pool = greedy + direct_many(problem, client, sampling, seed * 7, usage, first, temperature)
    candidates = [c for c, _ in pool]
    found, info = evidence(problem, candidates, sandbox, sampling.mbr_inputs, seed)
    behaviours = tally(found, len(candidates))
    is_settled = settled(found, len(candidates), info["examples"], sampling.settled_lead)
    if not is_settled:
        more = sampling.candidates - first
        pool += direct_many(problem, client, sampling, seed * 7 + first, usage, more, temperature)
        candidates = [c for c, _ in pool]
        found, info = evidence(
            problem, candidates, sandbox, sampling.mbr_inputs, seed, earlier=found
        )
        behaviours = tally(found, len(candidates))
    winner = ranked(behaviours)[0]
    info.update(behaviours=len(behaviours), consensus=len(winner), sampled=True, settled=is_settled)
    pair = close_pair(behaviours, sampling.distinguish_margin)
    if pair:
        info["majority_pick"] = min(winner)  # what the count alone would have kept
        examples = [call_arguments(c.call) for c in checks]
        examples += example_arguments(problem["prompt"], problem["entry_point"])
        compared = compared_inputs(problem, checks, sampling.mbr_inputs, seed)
        winner, found = distinguish(
            problem, candidates, pair, (examples, compared), client, sampling, seed, usage, sandbox
        )
        info.update(found)
    index = min(winner)
    return record(
        candidates[index], pool[index][1], usage, **record_fields(index, candidates, info)
    )


def mbr_exec_probe(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox
) -> dict:
    """mbr-exec-adaptive with a wider gate. A greedy answer that passes the docstring's examples is
    questioned too: `sampling.probe` samples (one request with `n`) run on the examples' inputs and
    their mutations, and the greedy answer is kept only when every probe that passes the examples
    behaves as it does. Otherwise, or when the greedy answer fails an example, the pool is filled up
    to the k candidates and the vote decides (the probes vote too)."""
    usage = Usage()
    greedy = direct_many(problem, client, sampling, seed, usage, 1, temperature=0.0)
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    if not checks and not example_arguments(problem["prompt"], problem["entry_point"]):
        info = {"examples": 0, "examples_passed": 0, "sampled": False, "probe_agreed": None}
        return record(*greedy[0], usage, **record_fields(0, [greedy[0][0]], info))
    verdict = run_checks(sandbox, problem, greedy[0][0], checks) if checks else None
    if verdict is None or failed_checks(verdict, len(checks)):
        return {
            **_mbr_choice(problem, client, sampling, seed, sandbox, usage, greedy),
            "mbr_sampled": True,
        }
    probe = direct_many(
        problem, client, sampling, seed * 7, usage, sampling.probe, sampling.candidate_temperature
    )
    pool = greedy + probe
    behaviours, _ = vote(problem, [c for c, _ in pool], sandbox, sampling.mbr_inputs, seed)
    if len(behaviours) == 1:
        info = {"examples": len(checks), "examples_passed": len(checks), "sampled": False}
        fields = record_fields(0, [c for c, _ in pool], {**info, "probe_agreed": True})
        return record(*greedy[0], usage, **fields)
    more = sampling.candidates - sampling.probe
    pool += direct_many(
        problem,
        client,
        sampling,
        seed * 7 + sampling.probe,
        usage,
        more,
        sampling.candidate_temperature,
    )
    candidates = [completion for completion, _ in pool]
    index, info = choose(problem, candidates, sandbox, inputs=sampling.mbr_inputs, seed=seed)
    fields = record_fields(index, candidates, {**info, "sampled": True, "probe_agreed": False})
    return record(candidates[index], pool[index][1], usage, **fields)


def _mbr_choice(
    problem: dict,
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    sandbox,
    usage: Usage,
    greedy: list[tuple[str, Completion]],
) -> dict:
    """The greedy answer plus k samples at the candidate temperature -> the record of mbr-exec's
    choice."""
    pool = greedy + sampled_candidates(problem, client, sampling, seed, usage)
    candidates = [completion for completion, _ in pool]
    index, info = choose(problem, candidates, sandbox, inputs=sampling.mbr_inputs, seed=seed)
    return record(
        candidates[index], pool[index][1], usage, **record_fields(index, candidates, info)
    )
