"""Asking the model for answers: n completions of the direct prompt (from one prefill), the code cut
out of each, and the fields of a solutions record with the tokens a strategy spent."""

from . import prompts
from .client import ChatClient, Completion
from .extract import extract_completion, is_stub
from .sampling import Sampling, Usage


def direct_many(
    problem: dict,
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    usage: Usage,
    n: int,
    temperature: float | None = None,
    style: str | None = None,
) -> list[tuple[str, Completion]]:
    """n answers to the direct prompt (answer i sampled with seed + i), each as (completion, raw
    answer)."""
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
            # The continuation was a placeholder ("# Your code here / pass"): ask for the whole
            # function instead.
            completion, answer = direct_many(
                problem, client, sampling, seed + i, usage, 1, temperature, style="instruct"
            )[0]
        results.append((completion, answer))
    return results


def sampled_candidates(
    problem: dict, client: ChatClient, sampling: Sampling, seed: int, usage: Usage
) -> list[tuple[str, Completion]]:
    """A task's sampled candidates (codet, mbr-exec): k at the candidate temperature from one
    prefill, their first seed apart from the greedy request's."""
    return direct_many(
        problem,
        client,
        sampling,
        seed * 7,
        usage,
        sampling.candidates,
        temperature=sampling.candidate_temperature,
    )


def direct(
    problem: dict,
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    usage: Usage,
    temperature: float | None = None,
) -> tuple[str, Completion]:
    return direct_many(problem, client, sampling, seed, usage, 1, temperature)[0]


def record(completion: str, answer: Completion, usage: Usage, **extra) -> dict:
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
