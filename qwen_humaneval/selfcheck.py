"""The evaluation checks itself: reference solutions through the same harness, and the machine's
speed.

- Reference self-check: each evaluated task's canonical solution runs as a sample, in the same
  sandbox, with the same harness and timeouts as the candidates. A task whose reference does not
  pass cannot judge anything here (a missing module, a sandbox fault, a timeout too short for this
  machine): its verdicts are infrastructure failures, never the model's. Results are cached per
  machine, dataset, Python version and settings.
- Calibration: a fixed CPU-bound job runs on every worker at once, through the pool, before the
  samples. Its time against the time recorded with the cached references is the slowdown of the
  machine now (a busier or slower machine than when the references were timed); every timeout is
  scaled by it (never below 1).
- Adaptive timeouts (the default): a task's timeout is max(the dataset's fixed timeout, FACTOR x its
  reference's time), times the slowdown; HumanEval+'s per-input limits are EvalPlus's max(MIN,
  FACTOR x the reference's time on that input), times the slowdown.
"""

import hashlib
import json
import platform
import statistics
from pathlib import Path

from . import config
from .jsonl_io import write_atomic
from .sandbox import wire

CALIBRATION = "total = 0\nfor i in range(600_000):\n    total += i * i % 7\n"  # about 60 ms here


def calibrate(pool) -> float:
    """Median seconds of the calibration job, run by every worker at once."""
    jobs = ((i, {"kind": "script", "solution": CALIBRATION}) for i in range(pool.workers))
    return statistics.median(
        v["duration"] for _, v in pool.run(jobs, timeout=config.REFERENCE_TIMEOUT)
    )


class SelfCheck:
    def __init__(self, dataset: str, problems: dict, settings: dict, cache_dir: Path):
        self.dataset, self.problems = dataset, problems
        identity = json.dumps(
            [
                dataset,
                sorted(problems),
                settings,
                platform.python_version(),
                wire.FORMAT,
                CALIBRATION,
            ],
            sort_keys=True,
        )
        content = hashlib.sha256(
            json.dumps(
                [[p.get("canonical_solution"), p.get("test")] for p in problems.values()]
            ).encode()
        )
        identity_hash = hashlib.sha256(identity.encode()).hexdigest()[:12]
        key = f"{dataset}-{content.hexdigest()[:12]}-{identity_hash}"
        self.path = cache_dir / f"{key}.json"
        self.cached = (
            json.loads(self.path.read_text()) if self.path.exists() else {"references": {}}
        )
        self.slowdown = 1.0
        self.calibration_seconds = None

    def measure_speed(self, pool) -> float:
        """The slowdown against the speed recorded with the cached references (1.0 when none are
        cached yet)."""
        seconds = calibrate(pool)
        recorded = self.cached.get("calibration_seconds")
        if recorded is None:
            self.cached["calibration_seconds"] = seconds
        self.slowdown = max(1.0, seconds / recorded) if recorded else 1.0
        self.calibration_seconds = seconds
        return self.slowdown

    def references(
        self, pool, task_ids: list[str], job_for_reference, timeout: float
    ) -> dict[str, dict]:
        """The reference's verdict and duration (at the recorded speed) for each task. Only passing
        references are cached: a failing one runs again next time, so a repaired machine is seen."""
        known = self.cached["references"]
        fresh = {}
        jobs = (
            (t, job_for_reference(self.problems[t]))
            for t in dict.fromkeys(task_ids)
            if t not in known
        )
        for task_id, verdict in pool.run(jobs, timeout=timeout * self.slowdown):
            fresh[task_id] = {
                "result": verdict["result"],
                "duration": round(verdict["duration"] / self.slowdown, 4),
            }
        passing = {t: v for t, v in fresh.items() if v["result"] == "passed"}
        if passing:
            known.update(passing)
            self._save()
        return {t: known.get(t) or fresh[t] for t in task_ids}

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self.cached, indent=1, sort_keys=True) + "\n")
