"""A small OpenAI-compatible HTTP client: chat completions with retries, spread over several
servers.

How long a request is waited for follows the work, not a fixed number: each request has a deadline
of max(floor, safety x n x max_tokens / the decode rate measured on that server), and while it is
pending the client watches the server's counters (llama.cpp's and vLLM's /metrics). A server whose
counters move is waited for past the deadline (a slow machine is not a failure); one whose counters
stand still for stall_seconds, or that has no counters and passed the deadline, has the request
cancelled (its connection closed: llama.cpp and vLLM drop the work) before it is sent again, so a
retry never doubles the work.
"""

import http.client
import itertools
import json
import threading
import time
from dataclasses import dataclass

import requests

from . import config
from .metrics import server_progress
from .watched_post import Cancelled, WatchedPost


class ServerError(RuntimeError):
    """The server could not be reached or kept failing after retries."""


class PromptTooLong(ServerError):
    """The server refused a request longer than its context (a property of the task and the server,
    not the model)."""


CONTEXT_ERRORS = ("exceed_context_size_error", "maximum context length")  # llama.cpp's, vLLM's


@dataclass
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    base_url: str
    # False for the 2nd..nth completion of one request (its prompt was processed once)
    first_of_request: bool = True


class ChatClient:
    """Thread-safe: each thread gets its own HTTP session; requests rotate over base_urls."""

    def __init__(
        self,
        base_urls: list[str],
        model: str,
        *,
        timeout: float = config.REQUEST_FLOOR_SECONDS,
        retries: int = 4,
        backoff: float = 2.0,
        max_n: int = 1,
        stall_seconds: float = config.REQUEST_STALL_SECONDS,
        poll_seconds: float = config.REQUEST_POLL_SECONDS,
        safety: float = config.REQUEST_SAFETY,
    ):
        if not base_urls:
            raise ValueError("at least one base URL is needed")
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.model = model
        self.timeout = timeout  # the floor of every request's deadline
        self.retries = retries
        self.backoff = backoff
        self.stall_seconds, self.poll_seconds, self.safety = stall_seconds, poll_seconds, safety
        # tokens/s of one request, as measured on each server
        self.decode_rates: dict[str, float] = {}
        # why each attempt that was retried or given up on failed
        self.failed_attempts: list[str] = []
        # servers whose /metrics counters this client has seen
        self.counting_servers: set[str] = set()
        self._local = threading.local()
        self._next_url = itertools.cycle(self.base_urls)
        self._lock = threading.Lock()
        # every payload sent and every answer's text received, in the order they happened, for
        # audits such as the no-leak test: ("sent", payload) and ("received", text)
        self.traffic: list[tuple[str, dict | str]] = []
        self.record_traffic = False
        self.max_n = max_n  # most completions one request may ask for (llama.cpp: its slot count)
        self._stopping = threading.Event()
        self._in_flight: set[WatchedPost] = set()

    def cancel_all(self) -> None:
        """Stop: every request in flight is cancelled now (its connection closed, so the server
        drops the work) and none is sent or retried after this; their callers get ServerError. For
        Ctrl-C, which would otherwise wait for every answer in flight."""
        self._stopping.set()
        with self._lock:
            posts = list(self._in_flight)
        for post in posts:
            post.cancel()

    def alive(self) -> bool:
        """Whether any of the servers answers at all (a task failing on a live server is that task's
        failure)."""
        for base_url in self.base_urls:
            try:
                if requests.get(f"{base_url}/v1/models", timeout=10).ok:
                    return True
            except requests.RequestException:
                pass
        return False

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _pick_url(self) -> str:
        with self._lock:
            return next(self._next_url)

    def chat(self, messages: list[dict], *, prefill: str | None = None, **params) -> Completion:
        """Send one chat completion. prefill: text the assistant's answer must start with
        (continued, not repeated)."""
        return self.chat_n(messages, 1, prefill=prefill, **params)[0]

    def chat_n(
        self,
        messages: list[dict],
        n: int,
        *,
        prefill: str | None = None,
        one_prefill: bool = True,
        **params,
    ) -> list[Completion]:
        """n completions of one prompt, each an independent sample, the prompt processed once per
        request.

        The server's `n` runs completion i with seed + i (llama.cpp's rule, so choice i equals a
        single request with seed + i); requests carry at most max_n choices (llama.cpp: its slot
        count), the next request continuing the seeds. The prompt's tokens are counted on the first
        completion of each request, where the server processed them. one_prefill=False: one request
        per completion.
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
        if self.record_traffic:
            with self._lock:
                self.traffic.append(("sent", payload))
        last_error = None
        for attempt in range(self.retries + 1):
            if self._stopping.is_set():
                raise ServerError("stopped: the run was interrupted")
            base_url = self._pick_url()
            start = time.monotonic()
            try:
                status, text = self._post_watched(base_url, payload)
                if status >= 500 or status == 429:
                    last_error = f"HTTP {status} from {base_url}: {text[:200]}"
                elif status == 400 and any(m in text for m in CONTEXT_ERRORS):
                    raise PromptTooLong(
                        f"the prompt does not fit the server's context: {text[:300]}"
                    )
                elif status >= 400:
                    raise ServerError(f"HTTP {status} from {base_url}: {text[:500]}")
                else:
                    completions = self._completions(
                        json.loads(text), prefill, time.monotonic() - start, base_url
                    )
                    self._measure(base_url, completions)
                    if self.record_traffic:
                        with self._lock:
                            self.traffic += [("received", c.text) for c in completions]
                    return completions
            except (OSError, http.client.HTTPException, ValueError) as e:
                last_error = f"{base_url}: {type(e).__name__}: {e}"
            except Cancelled as e:
                last_error = f"{base_url}: {e}"
            with self._lock:
                self.failed_attempts.append(last_error)
            if attempt < self.retries:
                time.sleep(self.backoff * (2**attempt))
        raise ServerError(f"giving up after {self.retries + 1} attempts: {last_error}")

    def deadline_seconds(self, base_url: str, n: int, max_tokens: int) -> float:
        """How long a request for n completions of up to max_tokens may take before its server must
        show progress to be waited for: the floor, or more at the decode rate measured on that
        server."""
        rate = self.decode_rates.get(base_url)
        needed = self.safety * n * max_tokens / rate if rate else 0.0
        return max(self.timeout, needed)

    def _measure(self, base_url: str, completions: list["Completion"]) -> None:
        """The decode rate of one request (its tokens over its latency), averaged over the last
        few."""
        latency = completions[0].latency
        tokens = sum(c.completion_tokens for c in completions)
        if latency > 0 and tokens > 0:
            with self._lock:
                old = self.decode_rates.get(base_url)
                rate = tokens / latency
                self.decode_rates[base_url] = rate if old is None else 0.7 * old + 0.3 * rate

    def _post_watched(self, base_url: str, payload: dict) -> tuple[int, str]:
        """(status, body) of the chat request, waited for as the module docstring says; Cancelled
        when given up."""
        n, max_tokens = (
            int(payload.get("n") or 1),
            int(payload.get("max_tokens") or config.MAX_TOKENS),
        )
        deadline = time.monotonic() + self.deadline_seconds(base_url, n, max_tokens)
        post = WatchedPost(f"{base_url}/v1/chat/completions", json.dumps(payload).encode())
        with self._lock:
            self._in_flight.add(post)
        try:
            return self._wait_for(post, base_url, n, max_tokens, deadline)
        finally:
            with self._lock:
                self._in_flight.discard(post)

    def _wait_for(
        self, post: WatchedPost, base_url: str, n: int, max_tokens: int, deadline: float
    ) -> tuple:
        last_counter, last_move = None, time.monotonic()
        while not post.done.wait(self.poll_seconds):
            if self._stopping.is_set():
                raise Cancelled("stopped: the run was interrupted")
            now = time.monotonic()
            # A busy server may answer /metrics late (it waits for the batch in hand): no answer is
            # no news, and a server that has shown counters is judged by them alone, a stuck one by
            # their standing still.
            counter = server_progress(base_url, timeout=max(1.0, 2 * self.poll_seconds))
            if counter is not None:
                self.counting_servers.add(base_url)
                if counter != last_counter:
                    last_counter, last_move = counter, now
                    continue
            if base_url in self.counting_servers:
                if now - last_move >= self.stall_seconds:
                    post.cancel()
                    raise Cancelled(
                        f"the server shows no progress for {now - last_move:.0f} s (stuck); "
                        "request cancelled"
                    )
            elif now >= deadline:
                post.cancel()
                raise Cancelled(
                    f"no answer within {self.deadline_seconds(base_url, n, max_tokens):.0f} s and "
                    "the server shows no progress counters (/metrics) to wait on; request "
                    "cancelled"
                )
        if post.error is not None:
            raise post.error
        return post.status, post.text

    def _completions(
        self, body: dict, prefill: str | None, latency: float, base_url: str
    ) -> list[Completion]:
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
            response = self._session().post(
                f"{base_url}/tokenize", json={"content": text}, timeout=self.timeout
            )
            counts.append(len(response.json().get("tokens", [])) if response.ok else 0)
        return counts


def server_info(base_url: str, timeout: float = 5.0) -> dict:
    """What the server says about itself (model ids, and llama.cpp's build and slots when
    available)."""
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
