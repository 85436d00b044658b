"""Sampling parameters (what every request of a run is asked with); the usage a strategy counts."""

from dataclasses import dataclass

from . import config, prompts
from .client import Completion


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
    probe: int = config.PROBE_SAMPLES  # mbr-exec-probe: samples that question a greedy answer
    distinguish_margin: int = config.DISTINGUISH_MARGIN  # mbr-exec-distinguish: a close vote
    distinguishing_inputs: int = config.DISTINGUISHING_INPUTS
    judged_inputs: int = config.JUDGED_INPUTS
    first_round: int = config.FIRST_ROUND
    settled_lead: int = config.SETTLED_LEAD

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
