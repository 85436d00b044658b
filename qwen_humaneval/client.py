"""A small OpenAI-compatible HTTP client: chat completions with retries, spread over several servers."""

import itertools
import threading
import time
from dataclasses import dataclass

import requests


class ServerError(RuntimeError):
    """The server could not be reached or kept failing after retries."""


class PromptTooLong(ServerError):
    """The server refused a request longer than its context (a property of the task and the server, not the model)."""


CONTEXT_ERRORS = ("exceed_context_size_error", "maximum context length")  # llama.cpp's, vLLM's


@dataclass
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    base_url: str
    first_of_request: bool = True  # False for the 2nd..nth completion of one request (its prompt was processed once)


class ChatClient:
    """Thread-safe: each thread gets its own HTTP session; requests rotate over base_urls."""

    def __init__(
        self,
        base_urls: list[str],
        model: str,
        *,
        timeout: float = 600.0,
        retries: int = 4,
        backoff: float = 2.0,
        max_n: int = 1,
    ):
        if not base_urls:
            raise ValueError("at least one base URL is needed")
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._local = threading.local()
        self._next_url = itertools.cycle(self.base_urls)
        self._lock = threading.Lock()
        self.requests_sent: list[dict] = []  # every payload, for audits such as the no-leak test
        self.record_payloads = False
        self.max_n = max_n  # most completions one request may ask for (llama.cpp: its slot count)

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _pick_url(self) -> str:
        with self._lock:
            return next(self._next_url)

    def chat(self, messages: list[dict], *, prefill: str | None = None, **params) -> Completion:
        """Send one chat completion. prefill: text the assistant's answer must start with (continued, not repeated)."""
        return self.chat_n(messages, 1, prefill=prefill, **params)[0]

    def chat_n(
        self, messages: list[dict], n: int, *, prefill: str | None = None, one_prefill: bool = True, **params
    ) -> list[Completion]:
        """n completions of one prompt, each an independent sample, the prompt processed once per request.

        The server's `n` runs completion i with seed + i (llama.cpp's rule, so choice i equals a single
        request with seed + i); requests carry at most max_n choices (llama.cpp: its slot count), the
        next request continuing the seeds. The prompt's tokens are counted on the first completion of
        each request, where the server processed them. one_prefill=False: one request per completion.
        """
        completions = []
        while len(completions) < n:
            k = min(self.max_n if one_prefill else 1, n - len(completions))
            chunk = dict(params, n=k) if k > 1 else dict(params)
            if "seed" in params:
                chunk["seed"] = params["seed"] + len(completions)
            completions += self._request(messages, prefill, chunk)
        return completions

    def _request(self, messages: list[dict], prefill: str | None, params: dict) -> list[Completion]:
        payload = {"model": self.model, "messages": list(messages), **params}
        if prefill:
            payload["messages"].append({"role": "assistant", "content": prefill})
            # llama.cpp continues a final assistant message by itself; vLLM needs to be told.
            payload["continue_final_message"] = True
            payload["add_generation_prompt"] = False
        if self.record_payloads:
            with self._lock:
                self.requests_sent.append(payload)
        last_error = None
        for attempt in range(self.retries + 1):
            base_url = self._pick_url()
            start = time.monotonic()
            try:
                response = self._session().post(f"{base_url}/v1/chat/completions", json=payload, timeout=self.timeout)
                if response.status_code >= 500 or response.status_code == 429:
                    last_error = f"HTTP {response.status_code} from {base_url}: {response.text[:200]}"
                elif response.status_code == 400 and any(m in response.text for m in CONTEXT_ERRORS):
                    raise PromptTooLong(f"the prompt does not fit the server's context: {response.text[:300]}")
                elif response.status_code >= 400:
                    raise ServerError(f"HTTP {response.status_code} from {base_url}: {response.text[:500]}")
                else:
                    return self._completions(response.json(), prefill, time.monotonic() - start, base_url)
            except requests.RequestException as e:
                last_error = f"{base_url}: {type(e).__name__}: {e}"
            if attempt < self.retries:
                time.sleep(self.backoff * (2**attempt))
        raise ServerError(f"giving up after {self.retries + 1} attempts: {last_error}")

    def _completions(self, body: dict, prefill: str | None, latency: float, base_url: str) -> list[Completion]:
        usage = body.get("usage") or {}
        choices = sorted(body["choices"], key=lambda c: c.get("index", 0))
        texts = []
        for choice in choices:
            text = choice["message"].get("content") or ""
            if prefill and text.startswith(prefill):  # llama.cpp echoes the prefill, vLLM does not
                text = text[len(prefill) :]
            texts.append(text)
        completion_tokens = [int(usage.get("completion_tokens") or 0)]
        if len(choices) > 1:
            # llama.cpp's usage counts the first completion only (vLLM's counts all): count each one
            completion_tokens = (
                self._token_counts(base_url, texts)
                if "timings" in body
                else [completion_tokens[0] // len(choices)] * len(choices)
            )
        return [
            Completion(
                text=text,
                finish_reason=choice.get("finish_reason") or "",
                prompt_tokens=int(usage.get("prompt_tokens") or 0) if i == 0 else 0,
                completion_tokens=completion_tokens[i],
                latency=latency if i == 0 else 0.0,
                base_url=base_url,
                first_of_request=i == 0,
            )
            for i, (choice, text) in enumerate(zip(choices, texts))
        ]

    def _token_counts(self, base_url: str, texts: list[str]) -> list[int]:
        counts = []
        for text in texts:
            response = self._session().post(f"{base_url}/tokenize", json={"content": text}, timeout=self.timeout)
            counts.append(len(response.json().get("tokens", [])) if response.ok else 0)
        return counts


def server_info(base_url: str, timeout: float = 5.0) -> dict:
    """What the server says about itself (model ids, and llama.cpp's build and slots when available)."""
    info = {"base_url": base_url}
    try:
        models = requests.get(f"{base_url.rstrip('/')}/v1/models", timeout=timeout).json()
        info["models"] = [m.get("id") for m in models.get("data", [])]
    except (requests.RequestException, ValueError) as e:
        raise ServerError(f"cannot reach an OpenAI-compatible server at {base_url}: {e}") from None
    try:
        props = requests.get(f"{base_url.rstrip('/')}/props", timeout=timeout)
        if props.ok:
            data = props.json()
            info["total_slots"] = data.get("total_slots")
            info["build_info"] = data.get("build_info")
            info["model_path"] = data.get("model_path")
    except (requests.RequestException, ValueError):
        pass
    return info
