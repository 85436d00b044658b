"""Choosing among candidate answers by running them: the docstring's examples, then behaviour
(mbr-exec).

Candidates that compute the same outputs on the same inputs are one behaviour; the behaviour most
candidates share is the likeliest right (MBR-exec, Shi et al. 2022; AlphaCode's clustering). All the
evidence comes from the prompt and the candidates themselves, never from the hidden tests:
1. the docstring's examples (examples.py) filter: the candidates passing all of them stay; when none
   does (a docstring can be wrong: HumanEval/47's median example), those passing the most stay;
2. inputs: the arguments of every example call the docstring shows (with or without a parsable
   result), then type-aware mutations of them (EvalPlus's idea, applied to the prompt's examples
   only);
3. each remaining candidate's outputs on those inputs, computed in the sandbox; equal outputs
   (floats to 6 significant digits, an exception by its type, no output at all by why) make one
   behaviour;
4. the behaviour with the most candidates wins; among equals the one holding the greedy answer (the
   first candidate), then the earliest. Within it, the earliest candidate (the greedy one if there).
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass

from . import config
from .examples import (
    Check,
    call_arguments,
    checks_job,
    example_arguments,
    extract_checks,
    failed_checks,
)
from .extract import normalized
from .sandbox import wire


def code_of(problem: dict, completion: str) -> str:
    """The candidate as a program: prompt + completion (a body), or the completion alone when it
    redefines the function."""
    return (
        completion.lstrip("\n") if completion.startswith("\n") else problem["prompt"] + completion
    )


def run_checks(sandbox, problem: dict, completion: str, checks: list[Check]) -> dict:
    """The verdict of the docstring's checks on a candidate: 'result', and the judge's facts
    (examples.failed_checks)."""
    return sandbox.execute(
        checks_job(code_of(problem, completion), problem["entry_point"], checks),
        config.CHECK_TIMEOUT,
    )


def _mutations(value, rng: random.Random) -> list:
    """Nearby values of the same type: small steps, reorderings, one element changed. Values that
    keep the shape the docstring shows, so candidates are compared where the specification still
    speaks."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        # small: fib(2n) can take forever
        return [value + 1, value + 2, 0, -value] + ([value - 1] if value > 0 else [])
    if isinstance(value, float):
        return [value + 1.0, value * 1.5, round(value / 2, 3)]
    if isinstance(value, str):
        found = [value[::-1], value + value[:1], "".join(rng.sample(value, len(value)))]
        return found + ([value[1:], value[:-1]] if len(value) > 1 else []) + [""]
    if isinstance(value, (list, tuple)):
        items = list(value)
        found = [items[::-1], items + items[:1], rng.sample(items, len(items)), []]
        if len(items) > 1:
            found += [items[1:], items[:-1]]
        if items:
            at = rng.randrange(len(items))
            found += [
                items[:at] + [changed] + items[at + 1 :]
                for changed in _mutations(items[at], rng)[:2]
            ]
        return [type(value)(f) for f in found]
    return []


def behaviour_inputs(arguments: list[list], limit: int, seed: int) -> list[list]:
    """The examples' argument lists, then up to `limit` distinct mutations of one argument at a
    time."""
    rng = random.Random(seed)
    seen, originals, mutated = set(), [], []
    for args in arguments:
        if repr(args) not in seen:
            seen.add(repr(args))
            originals.append(args)
    for args in originals:
        for position, value in enumerate(args):
            for changed in _mutations(value, rng):
                candidate = args[:position] + [changed] + args[position + 1 :]
                if repr(candidate) not in seen:
                    seen.add(repr(candidate))
                    mutated.append(candidate)
    rng.shuffle(mutated)
    return originals + mutated[:limit]


def _canonical(value):
    """A value as a comparable, hashable key: floats to 6 significant digits, ints of any size."""
    if isinstance(value, float):
        return "nan" if value != value else float(f"{value:.6g}")
    if type(value) is int:
        return "int", format(value, "x")  # repr() refuses ints of more than 4300 digits
    if isinstance(value, (list, tuple)):
        return type(value).__name__, tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return "dict", tuple(sorted((repr(_canonical(k)), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return "set", tuple(sorted(repr(_canonical(v)) for v in value))
    return repr(value)


def outputs_job(problem: dict, completion: str, inputs: list[list]) -> dict:
    """The sandbox job that returns the candidate's outputs on the inputs (and how long it took)."""
    return {
        "kind": "outputs",
        "solution": code_of(problem, completion),
        "entry_point": problem["entry_point"],
        "inputs": wire.encode_value(inputs),
    }


def run_outputs(
    sandbox,
    problem: dict,
    completion: str,
    inputs: list[list],
    timeout: float = config.CHECK_TIMEOUT,
) -> dict:
    """The verdict of the candidate's outputs job. One that times out runs once more with
    OUTPUTS_RETRY_FACTOR times the limit: on a busy machine (the server decoding beside the
    sandbox) a program that finishes in time when idle must not lose its vote."""
    job = outputs_job(problem, completion, inputs)
    verdict = sandbox.execute(job, timeout)
    if verdict["result"] == "timed out":
        verdict = sandbox.execute(job, timeout * config.OUTPUTS_RETRY_FACTOR)
    return verdict


def behaviour(sandbox, problem: dict, completion: str, inputs: list[list]) -> tuple | str:
    """What the candidate computes on the inputs: one comparable key per input, or why there are
    none (outputs that cannot be compared, nested past what the wire carries, say, are a behaviour
    of their own, never a crash)."""
    verdict = run_outputs(sandbox, problem, completion, inputs)
    if verdict["result"] != "passed":
        return f"no outputs: {verdict['result'].split(':')[0]}"
    try:
        outputs = []
        for output in verdict["outputs"]:
            if "value" in output:
                outputs.append(repr(_canonical(wire.decode_value(output["value"]))))
            else:
                outputs.append(repr(("raised", str(output.get("raised")))))
        return tuple(outputs)
    except (wire.WireError, ValueError, TypeError, RecursionError) as e:
        return f"no outputs: {type(e).__name__}"


def choose(
    problem: dict, candidates: list[str], sandbox, inputs: int = config.MBR_INPUTS, seed: int = 0
) -> tuple[int, dict]:
    """The index of the candidate to keep (candidates[0] is the greedy answer), and how it was
    chosen."""
    behaviours, info = vote(problem, candidates, sandbox, inputs, seed)
    winner = ranked(behaviours)[0]
    info.update(behaviours=len(behaviours), consensus=len(winner))
    return min(winner), info


def ranked(behaviours: dict) -> list[list[int]]:
    """The behaviours' members, the vote's winner first: most candidates, then the one holding the
    greedy answer (candidate 0), then the earliest."""
    return sorted(behaviours.values(), key=lambda m: (len(m), 0 in m, -min(m)), reverse=True)


@dataclass
class Evidence:
    """What running one distinct program of a pool showed."""

    members: list[int]  # the candidates written as this program
    examples_passed: int
    outputs: tuple | str | None = None  # behaviour(); None: not run


def vote(
    problem: dict, candidates: list[str], sandbox, inputs: int, seed: int
) -> tuple[dict[tuple | str, list[int]], dict]:
    """The candidates left by the examples' filter, grouped by behaviour (key -> candidate
    indexes), and what the filter found."""
    found, info = evidence(problem, candidates, sandbox, inputs, seed)
    return tally(found, len(candidates)), info


def evidence(
    problem: dict,
    candidates: list[str],
    sandbox,
    inputs: int,
    seed: int,
    every_program: bool = False,
    earlier: Iterable[Evidence] = (),
) -> tuple[list[Evidence], dict]:
    """Each distinct program's examples passed and, where the vote needs them (the programs passing
    the most examples, when more than one does; every_program: all), its outputs on the compared
    inputs; and what the filter found. earlier: the evidence on a prefix of these candidates (same
    inputs and seed), whose programs are not run again."""
    # identical code runs once and votes as many times as it was written
    distinct: dict[str, list[int]] = {}
    for index, completion in enumerate(candidates):
        distinct.setdefault(normalized(code_of(problem, completion)), []).append(index)
    ran = {normalized(code_of(problem, candidates[e.members[0]])): e for e in earlier}
    checks = extract_checks(problem["prompt"], problem["entry_point"])
    found = []
    for program, members in distinct.items():
        if program in ran:
            found.append(Evidence(members, ran[program].examples_passed, ran[program].outputs))
            continue
        completion = candidates[members[0]]
        failed = (
            failed_checks(run_checks(sandbox, problem, completion, checks), len(checks))
            if checks
            else ()
        )
        found.append(Evidence(members, len(checks) - len(failed)))
    best = max(e.examples_passed for e in found)
    info = {"candidates": len(candidates), "distinct": len(found), "examples": len(checks)}
    if checks:
        info.update(examples_passed=best, example_fallback=best < len(checks))
    arguments = compared_inputs(problem, checks, inputs, seed)
    info["inputs"] = len(arguments)
    voters = [e for e in found if every_program or e.examples_passed == best]
    if arguments and (every_program or len(voters) > 1):
        for e in voters:
            if e.outputs is None:
                e.outputs = behaviour(sandbox, problem, candidates[e.members[0]], arguments)
    return found, info


def tally(found: list[Evidence], upto: int) -> dict[tuple | str, list[int]]:
    """The vote among candidates 0..upto-1: those passing the most examples, grouped by behaviour
    (one group, 'unrun', when a single program is left or nothing could be compared)."""
    present = _present(found, upto)
    best = max(e.examples_passed for e, _ in present)
    voters = [(e, members) for e, members in present if e.examples_passed == best]
    behaviours: dict[tuple | str, list[int]] = {}
    for e, members in voters:
        key = e.outputs if len(voters) > 1 and e.outputs is not None else "unrun"
        behaviours.setdefault(key, []).extend(members)
    return behaviours


def settled(found: list[Evidence], upto: int, examples: int, lead: int) -> bool:
    """Whether the vote among candidates 0..upto-1 is taken as final: its voters pass every example
    (else a later candidate passing more would unseat them all) and the leader leads by `lead`
    candidates (certain only when `lead` exceeds the candidates still to come)."""
    if max(e.examples_passed for e, _ in _present(found, upto)) < examples:
        return False
    sizes = [len(m) for m in ranked(tally(found, upto))] + [0]
    return sizes[0] - sizes[1] >= lead


def _present(found: list[Evidence], upto: int) -> list[tuple[Evidence, list[int]]]:
    """Each program written among candidates 0..upto-1, with those candidates."""
    present = [(e, [i for i in e.members if i < upto]) for e in found]
    return [(e, members) for e, members in present if members]


def compared_inputs(problem: dict, checks: list[Check], limit: int, seed: int) -> list[list]:
    """The inputs candidates are compared on: every example call the docstring shows, then up to
    `limit` mutations of them."""
    examples = [call_arguments(c.call) for c in checks]
    examples += example_arguments(problem["prompt"], problem["entry_point"])
    return behaviour_inputs(examples, limit, seed) if examples else []


def record_fields(pick: int, candidates: list[str], info: dict) -> dict:
    """What a solutions record keeps of a choice: the pick, every candidate, and how it was
    chosen."""
    return {
        "mbr_pick": pick,
        "mbr_candidates": candidates,
        **{f"mbr_{k}": v for k, v in info.items() if k != "candidates"},
    }
