"""How one solution is produced for one problem: the test-time strategies.

Each strategy takes the problem's prompt and entry point (never its tests), a ChatClient, the
sampling parameters and, for those that execute candidates, the sandbox pool; it returns the fields
of one solutions.jsonl record. Only the prompt and the model's own output are used.
"""

from dataclasses import dataclass

from . import config, prompts
from .client import ChatClient, Completion
from .examples import example_arguments, extract_checks, failed_checks, feedback, parse_assertions
from .extract import extract_completion, is_stub
from .selection import choose, code_of, record_fields, run_checks


@dataclass
class Sampling:
    temperature: float = config.TEMPERATURE_ONE_SAMPLE
    top_p: float = config.TOP_P
    max_tokens: int = config.MAX_TOKENS
    seed: int = config.SEED
    style: str = config.STYLE
    one_prefill: bool = config.ONE_PREFILL  # several samples of one prompt: one request with `n`
    stops: tuple = prompts.CONTINUATION_STOPS  # where a continued answer ends
    repair_rounds: int = config.REPAIR_ROUNDS
    candidates: int = config.CANDIDATES
    codet_tests: int = config.CODET_TESTS
    candidate_temperature: float = config.CANDIDATE_TEMPERATURE
    mbr_inputs: int = config.MBR_INPUTS

    def request_params(self, seed: int, temperature: float | None = None) -> dict:
        t = self.temperature if temperature is None else temperature
        params = {"temperature": t, "max_tokens": self.max_tokens, "seed": seed}
        if t > 0:
            params["top_p"] = self.top_p
        return params


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    latency: float = 0.0

    def add(self, c: Completion) -> Completion:
        self.prompt_tokens += c.prompt_tokens
        self.completion_tokens += c.completion_tokens
        self.requests += c.first_of_request
        self.latency += c.latency
        return c


def _direct_many(
    problem: dict,
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    usage: Usage,
    n: int,
    temperature: float | None = None,
    style: str | None = None,
) -> list[tuple[str, Completion]]:
    """n answers to the direct prompt (answer i sampled with seed + i), each as (completion, raw answer)."""
    style = style or sampling.style
    messages, prefill = prompts.direct(problem["prompt"], style, problem["entry_point"])
    stop = {"stop": list(sampling.stops)} if prefill else {}
    answers = client.chat_n(
        messages,
        n,
        prefill=prefill,
        one_prefill=sampling.one_prefill,
        **stop,
        **sampling.request_params(seed, temperature),
    )
    results = []
    for i, answer in enumerate(answers):
        usage.add(answer)
        completion = extract_completion(
            problem["prompt"],
            answer.text,
            problem["entry_point"],
            continued=prefill is not None,
            truncated=answer.finish_reason == "length",
        )
        if style != "instruct" and is_stub(problem["prompt"], completion, problem["entry_point"]):
            # The continuation was a placeholder ("# Your code here / pass"): ask for the whole function instead.
            completion, answer = _direct_many(
                problem, client, sampling, seed + i, usage, 1, temperature, style="instruct"
            )[0]
        results.append((completion, answer))
    return results


def _sampled_candidates(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, usage: Usage
) -> list[tuple[str, Completion]]:
    """A task's sampled candidates (codet, mbr-exec): k at the candidate temperature from one prefill, their
    first seed apart from the greedy request's."""
    return _direct_many(
        problem, client, sampling, seed * 7, usage, sampling.candidates, temperature=sampling.candidate_temperature
    )


def _direct(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, usage: Usage, temperature: float | None = None
) -> tuple[str, Completion]:
    return _direct_many(problem, client, sampling, seed, usage, 1, temperature)[0]


def baseline(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox=None) -> dict:
    usage = Usage()
    completion, answer = _direct(problem, client, sampling, seed, usage)
    return _record(completion, answer, usage)


def baseline_samples(problem: dict, client: ChatClient, sampling: Sampling, seed: int, n: int) -> list[dict]:
    """n baseline samples of one problem from one prefill; each record carries its own tokens, the first
    the prompt's."""
    records = []
    for completion, answer in _direct_many(problem, client, sampling, seed, Usage(), n):
        usage = Usage()
        usage.add(answer)
        records.append(_record(completion, answer, usage))
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
        return _record(completion, answer, usage)
    # The model often stops after its reasoning (about 6 answers in 10 here): continue that answer with
    # the prompt opened in a fence, so the code follows the reasoning it wrote.
    reasoning = answer.text
    prefill = prompts.code_after_reasoning(reasoning, problem["prompt"])
    answer = usage.add(
        client.chat(messages, prefill=prefill, stop=list(sampling.stops), **sampling.request_params(seed))
    )
    completion = extract_completion(
        problem["prompt"],
        answer.text,
        problem["entry_point"],
        continued=True,
        truncated=answer.finish_reason == "length",
    )
    return _record(completion, answer, usage, reasoning=reasoning)


def _record(completion: str, answer: Completion, usage: Usage, **extra) -> dict:
    return {
        "completion": completion,
        "raw": answer.text,
        "finish_reason": answer.finish_reason,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "requests": usage.requests,
        "latency": round(usage.latency, 3),
        **extra,
    }


def self_repair(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """Baseline answer, then up to R rounds of: run the docstring's examples, show the failures, ask for a fix.
    Keeps the candidate that failed the fewest examples (the earliest among equals)."""
    usage = Usage()
    completion, answer = _direct(problem, client, sampling, seed, usage)
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    if not checks:
        return _record(completion, answer, usage, example_checks=0, repair_rounds=0)
    verdict = run_checks(sandbox, problem, completion, checks)
    best = (len(failed_checks(verdict, len(checks))), completion)
    rounds = 0
    while verdict["result"] != "passed" and rounds < sampling.repair_rounds:
        rounds += 1
        messages = prompts.repair(problem["prompt"], code_of(problem, completion), feedback(verdict))
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
    return _record(best[1], answer, usage, example_checks=len(checks), repair_rounds=rounds, examples_failed=best[0])


def codet(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """CodeT: k sampled candidates, tests written by the model (plus the docstring's examples), and the
    candidate from the largest consensus: candidates passing the same tests, scored by
    (number of candidates) x (number of tests passed)."""
    usage = Usage()
    sampled = _sampled_candidates(problem, client, sampling, seed, usage)
    candidates = [completion for completion, _ in sampled]
    messages, prefill = prompts.write_tests(problem["prompt"], problem["entry_point"], sampling.codet_tests)
    test_answer = usage.add(
        client.chat(messages, prefill=prefill, **sampling.request_params(seed, sampling.candidate_temperature))
    )
    generated = parse_assertions(prefill.removeprefix("```python\n") + test_answer.text, problem["entry_point"])
    checks = list(dict.fromkeys(extract_checks(problem["prompt"], problem["entry_point"]) + generated))
    if not checks:
        return _record(candidates[0], sampled[0][1], usage, codet_tests=0, codet_consensus=0)
    passed_sets = [
        frozenset(set(range(len(checks))) - failed_checks(run_checks(sandbox, problem, c, checks), len(checks)))
        for c in candidates
    ]
    groups: dict[frozenset, list[int]] = {}
    for index, passed in enumerate(passed_sets):
        groups.setdefault(passed, []).append(index)
    best_set, members = max(groups.items(), key=lambda item: (len(item[1]) * len(item[0]), -item[1][0]))
    return _record(
        candidates[members[0]],
        sampled[members[0]][1],
        usage,
        codet_tests=len(checks),
        codet_generated_tests=len(generated),
        codet_consensus=len(members),
        codet_tests_passed=len(best_set),
    )


def mbr_exec(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """The greedy answer and k samples (one request with `n`, after the greedy request left the prompt in
    the server's cache), then the behaviour most of them share (selection.py). Every candidate is kept
    in the record, so what the pool held can be scored later."""
    usage = Usage()
    return _mbr_choice(
        problem,
        client,
        sampling,
        seed,
        sandbox,
        usage,
        _direct_many(problem, client, sampling, seed, usage, 1, temperature=0.0),
    )


def mbr_exec_adaptive(problem: dict, client: ChatClient, sampling: Sampling, seed: int, sandbox) -> dict:
    """mbr-exec that samples only where the greedy answer gives a reason to: it fails one of the
    docstring's examples, or the docstring has no checkable example but shows calls to compare on.
    Elsewhere the greedy answer is kept after one request: a greedy answer passing every example was
    replaced for the better on 2 of 108 such tasks (two pools, k = 10), and with nothing to run the
    candidates on, mbr-exec keeps the greedy answer anyway."""
    usage = Usage()
    greedy = _direct_many(problem, client, sampling, seed, usage, 1, temperature=0.0)
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    if checks:
        keep = not failed_checks(run_checks(sandbox, problem, greedy[0][0], checks), len(checks))
    else:
        keep = not example_arguments(problem["prompt"], problem["entry_point"])
    if keep:
        info = {"examples": len(checks), "examples_passed": len(checks), "sampled": False}
        return _record(*greedy[0], usage, **record_fields(0, [greedy[0][0]], info))
    return {**_mbr_choice(problem, client, sampling, seed, sandbox, usage, greedy), "mbr_sampled": True}


def _mbr_choice(
    problem: dict,
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    sandbox,
    usage: Usage,
    greedy: list[tuple[str, Completion]],
) -> dict:
    """The greedy answer plus k samples at the candidate temperature -> the record of mbr-exec's choice."""
    pool = greedy + _sampled_candidates(problem, client, sampling, seed, usage)
    candidates = [completion for completion, _ in pool]
    index, info = choose(problem, candidates, sandbox, inputs=sampling.mbr_inputs, seed=seed)
    return _record(candidates[index], pool[index][1], usage, **record_fields(index, candidates, info))


@dataclass(frozen=True)
class Strategy:
    solve: object  # (problem, client, sampling, seed, sandbox) -> solutions record fields
    needs_sandbox: bool  # runs candidates (docstring examples, generated tests) while generating
    solve_samples: object = None  # (problem, client, sampling, seed, n) -> n records from one prefill, when it can
    candidates: int = config.CANDIDATES  # sampled candidates per task when --candidates is not given


# The one registry: make generate STRATEGY=..., make compare and the manifests all read it.
STRATEGIES = {
    "baseline": Strategy(baseline, needs_sandbox=False, solve_samples=baseline_samples),
    "cot": Strategy(cot, needs_sandbox=False),
    "self-repair": Strategy(self_repair, needs_sandbox=True),
    "codet": Strategy(codet, needs_sandbox=True),
    "mbr-exec": Strategy(mbr_exec, needs_sandbox=True),
    "mbr-exec-adaptive": Strategy(mbr_exec_adaptive, needs_sandbox=True, candidates=config.ADAPTIVE_CANDIDATES),
}


def sampling_for(strategy: str, dataset: str, samples: int = 1, **given) -> Sampling:
    """A run's sampling settings: what was given (None: not given), the rest by default: greedy for one
    sample and the several-sample temperature for more, the strategy's own number of candidates, and the
    dataset's stop sequences."""
    given = {k: v for k, v in given.items() if v is not None}
    several = config.TEMPERATURE_SEVERAL if samples > 1 else config.TEMPERATURE_ONE_SAMPLE
    given.setdefault("temperature", several)
    given["candidates"] = given.get("candidates") or get(strategy).candidates
    return Sampling(stops=prompts.stops_for(dataset), **given)


def get(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return STRATEGIES[name]
