"""How one solution is produced for one problem: the test-time strategies.

Each strategy takes the problem's prompt and entry point (never its tests), a ChatClient, the
sampling parameters and, for those that execute candidates, the sandbox pool; it returns the fields
of one solutions.jsonl record. Only the prompt and the model's own output are used.
"""

from dataclasses import dataclass

from . import config, prompts
from .answers import direct, direct_many, record, sampled_candidates
from .client import ChatClient
from .examples import extract_checks, failed_checks, feedback, parse_assertions
from .extract import extract_completion, is_stub
from .mbr import mbr_exec, mbr_exec_adaptive, mbr_exec_distinguish, mbr_exec_probe
from .sampling import Sampling, Usage
from .selection import code_of, run_checks


def baseline(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox=None
) -> dict:
    usage = Usage()
    completion, answer = direct(problem, client, sampling, seed, usage)
    return record(completion, answer, usage)


def baseline_samples(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, n: int
) -> list[dict]:
    """n baseline samples of one problem from one prefill; each record carries its own tokens, the
    first the prompt's."""
    records = []
    for completion, answer in direct_many(problem, client, sampling, seed, Usage(), n):
        usage = Usage()
        usage.add(answer)
        records.append(record(completion, answer, usage))
    return records


def cot(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox=None) -> dict:
    usage = Usage()
    messages = prompts.chain_of_thought(problem["prompt"])
    answer = usage.add(client.chat(messages, **sampling.request_params(seed)))
    completion = extract_completion(
        problem["prompt"],
        answer.text,
        problem["entry_point"],
        continued=False,
        truncated=answer.finish_reason == "length",
    )
    if not is_stub(problem["prompt"], completion, problem["entry_point"]):
        return record(completion, answer, usage)
    # The model often stops after its reasoning (about 6 answers in 10 here): continue that answer
    # with the prompt opened in a fence, so the code follows the reasoning it wrote.
    reasoning = answer.text
    prefill = prompts.code_after_reasoning(reasoning, problem["prompt"])
    answer = usage.add(
        client.chat(
            messages, prefill=prefill, stop=list(sampling.stops), **sampling.request_params(seed)
        )
    )
    completion = extract_completion(
        problem["prompt"],
        answer.text,
        problem["entry_point"],
        continued=True,
        truncated=answer.finish_reason == "length",
    )
    return record(completion, answer, usage, reasoning=reasoning)


def self_repair(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """Baseline answer, then up to R rounds of: run the docstring's examples, show the failures, ask
    for a fix. Keeps the candidate that failed the fewest examples (the earliest among equals)."""
    usage = Usage()
    completion, answer = direct(problem, client, sampling, seed, usage)
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    if not checks:
        return record(completion, answer, usage, example_checks=0, repair_rounds=0)
    verdict = run_checks(sandbox, problem, completion, checks)
    best = (len(failed_checks(verdict, len(checks))), completion)
    rounds = 0
    while verdict["result"] != "passed" and rounds < sampling.repair_rounds:
        rounds += 1
        messages = prompts.repair(
            problem["prompt"], code_of(problem, completion), feedback(verdict)
        )
        answer = usage.add(client.chat(messages, **sampling.request_params(seed + rounds)))
        fixed = extract_completion(
            problem["prompt"],
            answer.text,
            problem["entry_point"],
            continued=False,
            truncated=answer.finish_reason == "length",
        )
        if not fixed.strip():
            continue
        completion = fixed
        verdict = run_checks(sandbox, problem, completion, checks)
        failed = len(failed_checks(verdict, len(checks)))
        if failed < best[0]:
            best = (failed, completion)
    return record(
        best[1],
        answer,
        usage,
        example_checks=len(checks),
        repair_rounds=rounds,
        examples_failed=best[0],
    )


def codet(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """CodeT: k sampled candidates, tests written by the model (plus the docstring's examples), and
    the candidate from the largest consensus: candidates passing the same tests, scored by (number
    of candidates) x (number of tests passed)."""
    usage = Usage()
    sampled = sampled_candidates(problem, client, sampling, seed, usage)
    candidates = [completion for completion, _ in sampled]
    messages, prefill = prompts.write_tests(
        problem["prompt"], problem["entry_point"], sampling.codet_tests
    )
    test_answer = usage.add(
        client.chat(
            messages,
            prefill=prefill,
            **sampling.request_params(seed, sampling.candidate_temperature),
        )
    )
    generated = parse_assertions(
        prefill.removeprefix("```python\n") + test_answer.text, problem["entry_point"]
    )
    checks = list(
        dict.fromkeys(extract_checks(problem["prompt"], problem["entry_point"]) + generated)
    )
    if not checks:
        return record(candidates[0], sampled[0][1], usage, codet_tests=0, codet_consensus=0)
    passed_sets = [
        frozenset(
            set(range(len(checks)))
            - failed_checks(run_checks(sandbox, problem, c, checks), len(checks))
        )
        for c in candidates
    ]
    groups: dict[frozenset, list[int]] = {}
    for index, passed in enumerate(passed_sets):
        groups.setdefault(passed, []).append(index)
    best_set, members = max(
        groups.items(), key=lambda item: (len(item[1]) * len(item[0]), -item[1][0])
    )
    return record(
        candidates[members[0]],
        sampled[members[0]][1],
        usage,
        codet_tests=len(checks),
        codet_generated_tests=len(generated),
        codet_consensus=len(members),
        codet_tests_passed=len(best_set),
    )


@dataclass(frozen=True)
class Strategy:
    solve: object  # (problem, client, sampling, seed, sandbox) -> solutions record fields
    needs_sandbox: bool  # runs candidates (docstring examples, generated tests) while generating
    # (problem, client, sampling, seed, n) -> n records from one prefill, when it can
    solve_samples: object = None
    # sampled candidates per task when --candidates is not given
    candidates: int = config.CANDIDATES


# The one registry: make generate STRATEGY=..., make compare and the manifests all read it.
STRATEGIES = {
    "baseline": Strategy(baseline, needs_sandbox=False, solve_samples=baseline_samples),
    "cot": Strategy(cot, needs_sandbox=False),
    "self-repair": Strategy(self_repair, needs_sandbox=True),
    "codet": Strategy(codet, needs_sandbox=True),
    "mbr-exec": Strategy(mbr_exec, needs_sandbox=True),
    "mbr-exec-adaptive": Strategy(
        mbr_exec_adaptive, needs_sandbox=True, candidates=config.ADAPTIVE_CANDIDATES
    ),
    "mbr-exec-probe": Strategy(
        mbr_exec_probe, needs_sandbox=True, candidates=config.ADAPTIVE_CANDIDATES
    ),
    "mbr-exec-distinguish": Strategy(
        mbr_exec_distinguish, needs_sandbox=True, candidates=config.ADAPTIVE_CANDIDATES
    ),
}


def sampling_for(strategy: str, dataset: str, samples: int = 1, **given) -> Sampling:
    """A run's sampling settings: what was given (None: not given), the rest by default: greedy for
    one sample and the several-sample temperature for more, the strategy's own number of candidates,
    and the dataset's stop sequences."""
    given = {k: v for k, v in given.items() if v is not None}
    several = config.TEMPERATURE_SEVERAL if samples > 1 else config.TEMPERATURE_ONE_SAMPLE
    given.setdefault("temperature", several)
    given["candidates"] = given.get("candidates") or get(strategy).candidates
    return Sampling(stops=prompts.stops_for(dataset), **given)


def get(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
