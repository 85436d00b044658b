"""What the sandbox tests share: a pool in either mode, and jobs to run in it."""

import contextlib
import os

import pytest
from helpers import CACHE

from qwen_humaneval.sandbox.pool import SandboxPool

TIMEOUT = 2.0
MODES = ["root", "user-namespace"]


@contextlib.contextmanager
def sandbox_pool(mode: str, workers: int = 2):
    """A pool as root (a uid of its own per candidate) or as a non-root evaluator would run it (a
    user namespace, no capabilities), which QHE_SANDBOX_USERNS=1 selects even when the tests run as
    root."""
    mp = pytest.MonkeyPatch()
    mp.setenv("QHE_SANDBOX_USERNS", "1" if mode == "user-namespace" else "")
    try:
        with SandboxPool(workers, CACHE, memory_bytes=1 << 30) as p:
            assert not p.warnings, p.warnings
            assert p.layers["user_namespace"] == (mode == "user-namespace" or os.geteuid() != 0)
            yield p
    finally:
        mp.undo()


def script(program: str) -> dict:
    """A job that passes when the program runs to its end without raising."""
    return {"kind": "script", "solution": program}


def judged(solution: str, test: str, entry_point: str = "f", prompt: str = "") -> dict:
    """A HumanEval-style job: the judge runs test (check(candidate) included) against solution's
    entry point."""
    return {
        "kind": "tests",
        "solution": solution,
        "entry_point": entry_point,
        "prompt": prompt,
        "test": test,
    }


def fresh_tmp(pool) -> list[str]:
    """What a candidate's fresh /tmp holds: nothing, but the top folder of a Python installation
    that lives under /tmp (a checkout there), bound back in read-only."""
    return sorted(
        {original.split("/")[2] for _, original in pool.layers.get("python_under_tmp", [])}
    )


def run(pool, job, timeout: float = TIMEOUT) -> dict:
    job = script(job) if isinstance(job, str) else job
    [(key, verdict)] = list(pool.run([("one", job)], timeout=timeout))
    return verdict
