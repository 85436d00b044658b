"""A running server's work counters, read from its Prometheus /metrics: how the client tells a slow
server (counters moving) from a stuck one, and how the benchmarks count processed tokens."""

import re

import requests

# Counters that move while a server works: llama.cpp's decode calls and tokens, vLLM's tokens.
PROGRESS_COUNTERS = (
    "llamacpp:n_decode_total",
    "llamacpp:prompt_tokens_total",
    "llamacpp:tokens_predicted_total",
    "vllm:generation_tokens_total",
    "vllm:prompt_tokens_total",
)
_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", re.M)


def server_metrics(base_url: str, timeout: float = 5.0) -> dict[str, float] | None:
    """The server's Prometheus samples (/metrics) by name, labelled series summed; None when it has
    no /metrics or does not answer."""
    try:
        response = requests.get(f"{base_url}/metrics", timeout=timeout)
    except requests.RequestException:
        return None
    if not response.ok:
        return None
    values: dict[str, float] = {}
    for name, value in _SAMPLE.findall(response.text):
        values[name] = values.get(name, 0.0) + float(value)
    return values


def server_progress(base_url: str, timeout: float = 5.0) -> float | None:
    """The sum of the server's work counters, or None when it shows none (no /metrics, or
    unreachable)."""
    found = [
        v
        for name, v in (server_metrics(base_url, timeout) or {}).items()
        if name in PROGRESS_COUNTERS
    ]
    return sum(found) if found else None
