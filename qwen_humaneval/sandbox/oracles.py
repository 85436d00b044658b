"""How an output is compared with the expected one, as EvalPlus 0.3.1 does (HumanEval+ and MBPP+).

Plain equality first; a task's special oracle where EvalPlus has one (its own fixes to faulty tasks,
named by the dataset's registry entry); else floats within atol, of the same type and length.
Stdlib only: runs inside the sandbox worker (`python -I`), on builtin values the wire decoded.
"""

import math


def _is_floats(x) -> bool:
    return isinstance(x, float) or (
        isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(i, float) for i in x)
    )


def _numeric(x) -> bool:
    return isinstance(x, (bool, int, float, complex))


def allclose(out, exp, atol: float) -> bool:
    """numpy.allclose(out, exp, rtol=1e-7, atol) on builtin values: |out - exp| <= atol + rtol x
    |exp| at every position (a scalar against a sequence is broadcast), nan never close, anything
    not a number never close."""
    if isinstance(out, (list, tuple)) or isinstance(exp, (list, tuple)):
        outs = out if isinstance(out, (list, tuple)) else [out] * len(exp)
        exps = exp if isinstance(exp, (list, tuple)) else [exp] * len(outs)
        return len(outs) == len(exps) and all(allclose(o, e, atol) for o, e in zip(outs, exps))
    if not (_numeric(out) and _numeric(exp)):
        return False
    return out == exp or abs(out - exp) <= atol + 1e-7 * abs(exp)


def _pyramid_surface(base_edge, height):
    """Mbpp/581 as EvalPlus reads it: height is the apex's distance from the base, rounded to an
    integer."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant)


def _digit_distance(a, b):
    """Mbpp/558 as EvalPlus reads it: the shorter number zero-padded on the left."""
    x, y = str(a), str(b)
    width = max(len(x), len(y))
    return sum(abs(int(p) - int(q)) for p, q in zip(x.zfill(width), y.zfill(width)))


# EvalPlus's special oracles: out matches exp when ... (or when plainly equal, unless replaced)
ORACLES = {
    "any": lambda out, exp, args, atol: True,
    "or_zero": lambda out, exp, args, atol: out == 0,
    "pyramid_surface": lambda out, exp, args, atol: abs(out - _pyramid_surface(*args)) <= atol,
    "digit_distance": lambda out, exp, args, atol: out == _digit_distance(*args),
}


def matches(out, exp, atol: float, oracle: str | None = None, args=()) -> bool:
    """EvalPlus's verdict on one output: equal, or its task's special oracle, or floats within atol
    (1e-6 where the expected value is floats and atol is 0), of the same type and length. Never
    raises."""
    try:
        if oracle == "same_set":
            exact = set(out) == set(exp)
        else:
            exact = bool(out == exp) or (
                oracle in ORACLES and bool(ORACLES[oracle](out, exp, args, atol))
            )
        if atol == 0 and _is_floats(exp):
            atol = 1e-6
        if exact or atol == 0:
            return exact
        if type(out) is not type(exp) or (isinstance(exp, (list, tuple)) and len(out) != len(exp)):
            return False
        return allclose(out, exp, atol)
    except Exception:
        return False
