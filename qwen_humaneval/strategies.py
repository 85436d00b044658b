"""How one solution is produced for one problem: the test-time strategies.

Each strategy takes the problem's prompt and entry point (never its tests), a ChatClient and the
sampling parameters, and returns the fields of one solutions.jsonl record.
"""
from dataclasses import dataclass, field

from . import prompts
from .client import ChatClient, Completion
from .extract import extract_completion

STRATEGIES = ("baseline", "cot", "self-repair", "codet")


@dataclass
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 768
    seed: int = 1234
    style: str = "prefill"
    repair_rounds: int = 2
    codet_candidates: int = 5
    codet_tests: int = 8
    codet_temperature: float = 0.8
    extra: dict = field(default_factory=dict)

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
        self.requests += 1
        self.latency += c.latency
        return c


def _direct(problem: dict, client: ChatClient, sampling: Sampling, seed: int, usage: Usage,
            temperature: float | None = None) -> tuple[str, Completion]:
    messages, prefill = prompts.direct(problem["prompt"], sampling.style)
    answer = usage.add(client.chat(messages, prefill=prefill, **sampling.request_params(seed, temperature)))
    completion = extract_completion(problem["prompt"], answer.text, problem["entry_point"], continued=prefill is not None,
                                    truncated=answer.finish_reason == "length")
    return completion, answer


def baseline(problem: dict, client: ChatClient, sampling: Sampling, seed: int) -> dict:
    usage = Usage()
    completion, answer = _direct(problem, client, sampling, seed, usage)
    return _record(completion, answer, usage)


def cot(problem: dict, client: ChatClient, sampling: Sampling, seed: int) -> dict:
    usage = Usage()
    answer = usage.add(client.chat(prompts.chain_of_thought(problem["prompt"]), **sampling.request_params(seed)))
    completion = extract_completion(problem["prompt"], answer.text, problem["entry_point"], continued=False,
                                    truncated=answer.finish_reason == "length")
    return _record(completion, answer, usage)


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


def get(name: str):
    table = {"baseline": baseline, "cot": cot}
    if name not in table:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return table[name]
