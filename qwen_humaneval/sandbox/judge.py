"""The judge's side: run the tests against the candidate through a proxy, and give the verdict.

The judge is a process of its own. It holds the hidden tests (and for HumanEval+ the expected
outputs); the candidate's process holds neither and only ever receives call arguments. Calls go out
as data and results come back as data (wire.py); an exception raised in the candidate comes back as
an exception of the same name. The verdict is the judge's alone.

Kinds of job (the 'kind' field):
- script: the solution only; it passes when it loads without raising.
- tests: trusted test code (HumanEval's `test` plus `check(entry_point)`) run in the judge, in a
  namespace holding the prompt's own definitions (helpers such as poly or encode_cyclic) and the
  entry point as a proxy to the candidate.
- checks: literal calls and expected literals (docstring examples, model-written asserts); each is
  parsed with ast.literal_eval, never run as code, and every failure is listed.

Every verdict carries facts the judge sets, never parsed from text the candidate wrote: 'loaded'
(the solution ran to its end), and for checks 'checks_passed' (their numbers) and 'check_failures'
(one line each, for a model to read). Text from the candidate is made safe and short
(wire.safe_text).
- plus: EvalPlus-style differential testing against expected outputs computed beforehand, read from
  a file the worker opens; each input within EvalPlus's time limit (max(min_time, factor x the
  reference's time on it)).
- outputs: the candidate's outputs on given inputs (how those expected outputs are computed). Stdlib
  only: runs inside the sandbox worker (`python -I`).
"""

import ast
import builtins
import marshal
import math
import os
import select

from . import wire
from .oracles import matches


class CandidateDied(Exception):
    """The candidate's process exited or was killed while the judge waited for it."""


class SandboxSetupFailed(Exception):
    """The candidate's process could not jail itself: the sandbox failed, not the code."""


class CandidateTimeout(Exception):
    """The candidate took longer than an input's time limit."""


class CandidateException(Exception):
    """Base of exceptions raised in the candidate whose class is not a builtin one."""


_rebuilt_classes: dict = {}


def _rebuilt_class(name: str) -> type:
    """A subclass of the builtin exception of that name (CandidateException for any other name)
    whose str() is the candidate's message, so a verdict reads as it would have in one process."""
    if name not in _rebuilt_classes:
        base = getattr(builtins, name, None)
        if not (isinstance(base, type) and issubclass(base, BaseException)):
            base = CandidateException
        namespace = {"__str__": lambda self: self.message, "__module__": "candidate"}
        try:
            cls = type(name, (base,), namespace)
            cls.__new__(cls)
        except TypeError:  # a builtin that cannot be subclassed or built without its own arguments
            cls = type(name, (CandidateException,), namespace)
        _rebuilt_classes[name] = cls
    return _rebuilt_classes[name]


def _rebuild(answer: dict) -> BaseException:
    name, message = answer.get("raised"), answer.get("message")
    name = (
        name if isinstance(name, str) and name.isidentifier() and len(name) <= 100 else "Exception"
    )
    cls = _rebuilt_class(name)
    error = cls.__new__(cls)
    error.message = wire.safe_text(message)
    return error


class Candidate:
    """The candidate process, seen from the judge: load a solution, call a function by name."""

    def __init__(self, requests_fd: int, answers_fd: int):
        self.requests_fd, self.answers_fd = requests_fd, answers_fd

    def _exchange(self, message: dict, time_limit: float | None = None) -> dict:
        try:
            wire.send(self.requests_fd, message)
            if time_limit is not None:
                poller = select.poll()
                poller.register(self.answers_fd, select.POLLIN)
                if not poller.poll(time_limit * 1000):
                    raise CandidateTimeout()
            return wire.receive(self.answers_fd)
        except (EOFError, BrokenPipeError):
            raise CandidateDied() from None

    def load(self, solution: str) -> None:
        """The candidate's first message, written before any of its code ran: ready, or why its jail
        failed (the sandbox's failure, not the code's). Only then the solution goes out."""
        try:
            first = wire.receive(self.answers_fd)
        except EOFError:
            raise CandidateDied() from None
        if first.get("ready") is not True:
            raise SandboxSetupFailed(wire.safe_text(first.get("setup_failed")))
        answer = self._exchange({"solution": solution})
        if "raised" in answer:
            raise _rebuild(answer)

    def call(self, name: str, *args, **kwargs):
        return self.call_within(None, name, args, kwargs)

    def call_within(
        self, time_limit: float | None, name: str, args, kwargs=None, project: str | None = None
    ):
        """The candidate's name(*args, **kwargs); CandidateTimeout past time_limit seconds (None: no
        limit). project: what to receive instead of the value (candidate.PROJECTIONS)."""
        request = {"call": name, "value": [list(args), kwargs or {}]}
        answer = self._exchange({**request, "project": project} if project else request, time_limit)
        if "raised" in answer:
            raise _rebuild(answer)
        if "value" not in answer:
            raise wire.WireError("the candidate answered without a value")
        return answer["value"]

    def call_many(self, name: str, arg_lists: list, project: str | None = None):
        """The candidate's answers to name(*args) for each args, in one request: yields each answer
        dict ({'value'} or {'raised', 'message'}, with the 'seconds' the candidate says it took).
        The values stay encoded (wire data), to be passed on: whoever uses them decodes them."""
        try:
            request = {"call_many": name, "value": list(arg_lists)}
            wire.send(self.requests_fd, {**request, "project": project} if project else request)
            for _ in arg_lists:
                yield wire.receive(self.answers_fd, values=False)
        except (EOFError, BrokenPipeError):
            raise CandidateDied() from None

    def proxy(self, name: str):
        def function(*args, **kwargs):
            return self.call(name, *args, **kwargs)

        function.__name__ = function.__qualname__ = name
        return function


# --------------------------------------------------------------------------------- the kinds of job
def run_script(candidate: Candidate, job: dict, facts: dict) -> dict:
    return {}


_compiled: dict = {}


def _compile(source: str, filename: str):
    """The judge lives on across jobs: the same task's tests are compiled once."""
    code = _compiled.get((source, filename))
    if code is None:
        if len(_compiled) >= 512:
            _compiled.clear()
        code = _compiled[(source, filename)] = compile(source, filename, "exec")
    return code


def run_tests(candidate: Candidate, job: dict, facts: dict) -> dict:
    namespace = {"__name__": "__judge__"}
    exec(_compile(job.get("prompt", ""), "<prompt>"), namespace)
    namespace[job["entry_point"]] = candidate.proxy(job["entry_point"])
    exec(_compile(job["test"], "<tests>"), namespace)
    return {}


def same(got, expected) -> bool:
    """Equality for literal checks: floats within 1e-6, and a tuple is not a list."""
    if isinstance(expected, float) or isinstance(got, float):
        try:
            return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6)
        except TypeError:
            return False
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return (
            type(got) is type(expected)
            and len(got) == len(expected)
            and all(map(same, got, expected))
        )
    return got == expected


def run_checks(candidate: Candidate, job: dict, facts: dict) -> dict:
    entry_point, failed = job["entry_point"], []
    facts.update(checks_passed=[], check_failures=[])
    for number, (call, expected_src) in enumerate(job["checks"]):
        node = ast.parse(call, mode="eval").body
        args = [ast.literal_eval(a) for a in node.args]
        expected = ast.literal_eval(expected_src)
        try:
            got = candidate.call(entry_point, *args)
        except (CandidateDied, CandidateTimeout):
            raise
        except Exception as e:
            failed.append(number)
            facts["check_failures"].append(f"{call} raised {describe(e)}")
            continue
        if same(got, expected):
            facts["checks_passed"].append(number)
        else:
            failed.append(number)
            facts["check_failures"].append(
                f"{call} returned {wire.short_repr(got)}, expected {wire.short_repr(expected)}"
            )
    assert not failed, f"failed checks {failed} of {len(job['checks'])}"
    return {}


_expected_cache: dict = {}


def _expected(job: dict) -> dict:
    """HumanEval+'s inputs and expected outputs (a marshal blob each) and reference times for the
    job's task, from the descriptor the worker opened (kept for the next samples of the same task).
    """
    fd = job.pop("data_fd")
    with os.fdopen(fd, "rb") as f:
        if job["expected_file"] not in _expected_cache:
            if len(_expected_cache) >= 4:
                _expected_cache.pop(next(iter(_expected_cache)))
            _expected_cache[job["expected_file"]] = marshal.load(f)
    return _expected_cache[job["expected_file"]]


def run_plus(candidate: Candidate, job: dict, facts: dict) -> dict:
    """Every input in order, base then plus, failing at the first wrong output; 'base_passed' is a
    fact."""
    entry_point, atol, oracle = job["entry_point"], float(job.get("atol") or 0), job.get("oracle")
    data = _expected(job)
    base_count = job.get("base_count", len(data["inputs"]))
    project = "bool_or_not_none" if oracle == "not_none" else None
    facts["base_passed"] = False
    for number, (packed_args, packed_exp, seconds) in enumerate(
        zip(data["inputs"], data["outputs"], data["times"])
    ):
        if number == base_count:
            facts["base_passed"] = True
        args, exp = marshal.loads(packed_args), marshal.loads(packed_exp)
        if "reference_raised" in exp:
            raise AssertionError(
                f"input #{number}: the reference solution raised {exp['reference_raised']}"
            )
        limit = max(job["min_time"], job["time_factor"] * seconds)
        # an output too large to travel: the candidate's digest against the reference's
        if "digest" in exp:
            got = candidate.call_within(limit, entry_point, args, project="digest")
            assert got == exp["digest"], f"input #{number}: a different output (compared by digest)"
            continue
        got = candidate.call_within(limit, entry_point, args, project=project)
        if oracle == "root":  # HumanEval/32: any root will do, so evaluate the polynomial there
            value = sum(c * math.pow(got, i) for i, c in enumerate(args[0]))
            assert abs(value) <= (atol or 1e-6), (
                f"input #{number}: poly(xs, {wire.short_repr(got)}) = {value!r}, not 0"
            )
        else:
            assert matches(got, exp["value"], atol, oracle, args), (
                f"input #{number}: expected {wire.short_repr(exp['value'])}, got "
                f"{wire.short_repr(got)}"
            )
    facts["base_passed"] = True
    return {}


def run_outputs(candidate: Candidate, job: dict, facts: dict) -> dict:
    """The outputs on every input (still encoded) and the seconds each took, measured in the
    candidate's process: this runs the trusted reference solution, in one request, so no round trip
    counts."""
    outputs, times = [], []
    for answer in candidate.call_many(
        job["entry_point"], wire.decode_value(job["inputs"]), job.get("project")
    ):
        if "raised" in answer:
            error = _rebuild(answer)
            outputs.append({"reference_raised": describe(error), "raised": type(error).__name__})
        elif isinstance(answer.get("digest"), str):
            outputs.append({"digest": answer["digest"]})
        else:
            outputs.append({"value": answer["value"]})
        seconds = answer.get("seconds")
        times.append(float(seconds) if type(seconds) in (int, float) else 0.0)
    return {"outputs": outputs, "times": times}


KINDS = {
    "script": run_script,
    "tests": run_tests,
    "checks": run_checks,
    "plus": run_plus,
    "outputs": run_outputs,
}


def describe(e: BaseException) -> str:
    try:
        text = str(e)
    except BaseException:
        # only the judge's own exceptions get here; a rebuilt one's str() is its message
        text = ""
    return wire.safe_text(f"{type(e).__name__}: {text}" if text else type(e).__name__)


def judge(job: dict, candidate: Candidate) -> dict:
    """The verdict on one job: {'result': 'passed' | 'failed: ...', 'loaded', ...facts} (+
    'outputs'), or {'died': True, ...facts}."""
    facts = {"loaded": False}
    try:
        candidate.load(job["solution"])
        facts["loaded"] = True
        extra = KINDS[job.get("kind", "script")](candidate, job, facts)
        return {"result": "passed", **facts, **extra}
    except CandidateDied:
        return {"died": True, **facts}
    except CandidateTimeout:
        return {"result": "timed out", **facts}
    except SandboxSetupFailed as e:
        return {
            "result": f"failed: sandbox error: candidate setup: {e}",
            "infrastructure": True,
            **facts,
        }
    except BaseException as e:
        # SystemExit and KeyboardInterrupt from the candidate are failures too
        return {"result": f"failed: {describe(e)}", **facts}
