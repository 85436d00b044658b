"""Request timeouts that follow the work: a real HTTP server on 127.0.0.1 that answers slowly.

The server is honest about its work the way llama-server is: its /metrics counter (n_decode_total)
moves while it computes an answer, and stands still when it is stuck. It notices when the client
closes a request's connection (llama-server then drops the work) and counts it.
"""

import json
import select
import socket
import threading
import time

import pytest
from http_helpers import JsonHandler, serving

from qwen_humaneval.client import ChatClient, ServerError
from qwen_humaneval.metrics import server_progress


class Slow(JsonHandler):
    delay = 0.0  # seconds of work per request
    moving = True  # whether the counters move while it works
    metrics = True  # whether it has /metrics at all
    # /metrics answers this many times on time, then only after 2 s (a busy server)
    metrics_late_after = None
    metrics_answered = 0
    posts = 0
    cancelled = 0
    started = 0.0
    lock = threading.Lock()

    def do_GET(self):
        if self.path == "/metrics" and Slow.metrics:
            Slow.metrics_answered += 1
            if (
                Slow.metrics_late_after is not None
                and Slow.metrics_answered > Slow.metrics_late_after
            ):
                time.sleep(2.0)
            counter = int((time.monotonic() - Slow.started) * 100) if Slow.moving else 7
            self.send_json(
                200,
                f"# TYPE llamacpp:n_decode_total counter\nllamacpp:n_decode_total {counter}\n".encode(),
            )
        elif self.path == "/v1/models":
            self.send_json(200, b'{"data": [{"id": "m"}]}')
        else:
            self.send_json(404, b"{}")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        with Slow.lock:
            Slow.posts += 1
        end = time.monotonic() + Slow.delay
        while time.monotonic() < end:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            # the client closed it: drop the work
            if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                with Slow.lock:
                    Slow.cancelled += 1
                return
        body = {
            "choices": [{"message": {"content": "    return 1\n"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 40},
        }
        self.send_json(200, json.dumps(body).encode())


@pytest.fixture
def slow_server():
    Slow.delay, Slow.moving, Slow.metrics, Slow.posts, Slow.cancelled = 0.0, True, True, 0, 0
    Slow.metrics_late_after, Slow.metrics_answered = None, 0
    Slow.started = time.monotonic()
    with serving(Slow) as url:
        yield url


def client(url: str, **kwargs) -> ChatClient:
    """Deadlines of a second, polled five times a second: the real ones, scaled down for a test."""
    return ChatClient(
        [url],
        "m",
        **{"timeout": 1.0, "poll_seconds": 0.2, "stall_seconds": 1.0, "backoff": 0.0, **kwargs},
    )


ASK = [{"role": "user", "content": "hi"}]


def test_a_slow_server_that_shows_progress_is_waited_for(slow_server):
    """3 s of work against a 1 s deadline: the counters move, so the client waits, once, and gets
    the answer."""
    Slow.delay = 3.0
    answer = client(slow_server, retries=2).chat(ASK)
    assert answer.text == "    return 1\n" and answer.latency >= 3.0
    assert (Slow.posts, Slow.cancelled) == (1, 0)  # no work repeated, none thrown away


def test_a_server_too_busy_to_answer_metrics_in_time_is_still_waited_for(slow_server):
    """Counters seen once, then /metrics answers late (llama-server answers it between batches): no
    answer is no news, so the request is neither cancelled at its deadline nor sent twice."""
    Slow.delay, Slow.metrics_late_after = 3.0, 1
    answer = client(slow_server, retries=2, stall_seconds=10.0).chat(ASK)
    assert answer.text == "    return 1\n" and (Slow.posts, Slow.cancelled) == (1, 0)


def test_without_progress_to_see_a_fixed_deadline_fails_and_cancels_before_each_retry(slow_server):
    """The old behaviour, where the server shows nothing to wait on: the deadline ends each attempt,
    and the client closes the request's connection first, so the server never holds two copies of
    the work."""
    Slow.delay, Slow.metrics = 3.0, False
    with pytest.raises(ServerError, match="no progress counters"):
        client(slow_server, retries=1).chat(ASK)
    time.sleep(0.2)
    assert (Slow.posts, Slow.cancelled) == (2, 2)


def test_a_stuck_server_is_given_up_on_with_a_clear_message(slow_server):
    Slow.delay, Slow.moving = 60.0, False
    start = time.monotonic()
    stuck = client(slow_server, retries=1)
    with pytest.raises(
        ServerError, match=r"giving up after 2 attempts: .*no progress for \d+ s \(stuck\)"
    ):
        stuck.chat(ASK)
    assert len(stuck.failed_attempts) == 2 and all("stuck" in why for why in stuck.failed_attempts)
    assert time.monotonic() - start < 10
    time.sleep(0.2)
    assert (Slow.posts, Slow.cancelled) == (2, 2)


def test_a_dead_server_fails_fast(slow_server):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    start = time.monotonic()
    with pytest.raises(ServerError, match="giving up after 2 attempts"):
        client(dead, retries=1).chat(ASK)
    assert time.monotonic() - start < 5 and not client(dead).alive() and client(slow_server).alive()


def test_the_deadline_follows_the_measured_decode_rate(slow_server):
    """No measurement yet: the floor. After one answer (40 tokens in about 0.5 s): n x max_tokens at
    that rate."""
    Slow.delay = 0.5
    c = client(slow_server, timeout=1.0, safety=3.0)
    assert c.deadline_seconds(slow_server, 10, 768) == 1.0
    c.chat(ASK)
    rate = c.decode_rates[slow_server]
    assert 40 / 1.0 < rate < 40 / 0.5
    assert c.deadline_seconds(slow_server, 10, 768) == pytest.approx(3.0 * 10 * 768 / rate)
    assert c.deadline_seconds(slow_server, 10, 768) == pytest.approx(
        10 * c.deadline_seconds(slow_server, 1, 768)
    )


def test_progress_counters_are_read_from_metrics(slow_server):
    assert server_progress(slow_server) is not None
    Slow.metrics = False
    assert server_progress(slow_server) is None


def test_ctrl_c_cancels_the_requests_in_flight_at_once(slow_server):
    """cancel_all (what generation calls on Ctrl-C): a request the server is still working on, and
    showing progress for, is given up now, its connection closed so the server drops it, and nothing
    is retried."""
    Slow.delay = 30.0
    chat = client(slow_server)
    outcome = {}

    def ask():
        try:
            chat.chat(ASK, max_tokens=10)
        except ServerError as e:
            outcome["error"] = str(e)

    worker = threading.Thread(target=ask)
    worker.start()
    time.sleep(1.5)  # past the 1 s floor: it is waited for only because the counters move
    start = time.monotonic()
    chat.cancel_all()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - start < 3
    assert "interrupted" in outcome["error"]
    time.sleep(0.3)
    assert Slow.posts == 1 and Slow.cancelled == 1
