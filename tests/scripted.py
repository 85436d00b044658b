"""A stand-in for the model where a test needs answers the real model cannot be made to give:
ScriptedClient answers each chat request with the next scripted text and keeps what was asked."""

import threading

from qwen_humaneval import strategies
from qwen_humaneval.client import Completion

PROBLEM = {
    "task_id": "Toy/0",
    "entry_point": "add",
    "prompt": 'def add(a, b):\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n',
}
RIGHT = "    return a + b\n```"
WRONG = "    return a - b\n```"
ALWAYS_THREE = "    return 3\n```"


class ScriptedClient:
    """Stands in for ChatClient: answers requests in order from a script and keeps what was
    asked."""

    def __init__(self, answers: list[str]):
        self.answers = list(answers)
        self.calls = []
        self._lock = threading.Lock()

    def chat(self, messages, *, prefill=None, **params) -> Completion:
        return self.chat_n(messages, 1, prefill=prefill, **params)[0]

    def alive(self) -> bool:
        return True

    def chat_n(self, messages, n, *, prefill=None, one_prefill=True, **params) -> list[Completion]:
        """One call for n answers, as ChatClient sends one request with `n` (one_prefill) or n
        requests."""
        with self._lock:
            self.calls.append(
                {
                    "messages": messages,
                    "prefill": prefill,
                    "n": n,
                    "one_prefill": one_prefill,
                    **params,
                }
            )
            texts = [self.answers.pop(0) for _ in range(n)]
        return [
            Completion(
                text=text,
                finish_reason="stop",
                prompt_tokens=10 if i == 0 else 0,
                completion_tokens=5,
                latency=0.0,
                base_url="scripted",
                first_of_request=i == 0,
            )
            for i, text in enumerate(texts)
        ]


def solved(strategy):
    """The strategy run on a scripted client's answers: (its record, the client)."""

    def run(problem, answers, sandbox, **sampling):
        client = ScriptedClient(answers)
        record = strategy(problem, client, strategies.Sampling(**sampling), seed=1, sandbox=sandbox)
        return record, client

    return run
