"""Deciding a close vote with the model's own evidence (S*, Li et al. 2025, arXiv 2502.14382).

When the two largest behaviours of mbr-exec's vote are within `margin` candidates of each other, the
count says little. Instead:
1. the model is shown one program of each and asked for calls on which they disagree: inputs only,
   never expected results;
2. a call is kept when its arguments have the shape of the docstring's example calls (as many, of
   the same types); the inputs the vote compared on follow the model's calls, and the first calls on
   which the two programs give different results (an exception is one; nothing from both is not)
   are judged;
3. for each kept call, the model is shown the two results and asked which one the problem asks for,
   once in each order; a verdict counts only when it survives the swap (small models favour a
   position);
4. the runner-up replaces the leader only when every verdict prefers it.
Nothing but the prompt, the candidates and the model's answers feeds it; the hidden tests never do.
"""

from . import prompts
from .client import ChatClient
from .examples import calls_in
from .sampling import Sampling, Usage
from .sandbox import wire
from .selection import code_of, ranked, run_outputs

INPUT_TOKENS = 256
RESULT_CHARS = 200  # a result longer than this is cut when shown to the judge


def close_pair(behaviours: dict, margin: int) -> tuple[list[int], list[int]] | None:
    """The leader and the runner-up when the runner-up is within `margin` candidates, else None."""
    order = ranked(behaviours)
    if len(order) < 2 or len(order[0]) - len(order[1]) > margin:
        return None
    return order[0], order[1]


def _kind(value) -> str:
    return "number" if type(value) in (int, float) else type(value).__name__


def _shape(args: list) -> tuple:
    """Argument count and types, with a sequence's first element's type (ints and floats alike)."""
    return tuple(
        (_kind(a), _kind(a[0]) if isinstance(a, (list, tuple)) and a else None) for a in args
    )


def shaped_like(args: list, examples: list[list]) -> bool:
    """Whether a call's arguments look like one of the docstring's example calls (any, when it has
    none); an empty sequence matches a sequence of anything."""

    def fits(given, example) -> bool:
        return given[0] == example[0] and (given[1] is None or example[1] in (None, given[1]))

    if not examples:
        return True
    return any(
        len(args) == len(example) and all(map(fits, _shape(args), _shape(example)))
        for example in examples
    )


def shown_results(sandbox, problem: dict, completion: str, inputs: list[list]) -> list[str | None]:
    """The candidate's result on each input as the judge sees it (a value's repr, or 'raises X'),
    None where it gave nothing (it crashed, timed out, or returned what cannot be shown)."""
    verdict = run_outputs(sandbox, problem, completion, inputs)
    if verdict["result"] != "passed":
        return [None] * len(inputs)
    shown = []
    for output in verdict["outputs"]:
        if "value" not in output:
            shown.append(f"raises {output.get('raised')}" if output.get("raised") else None)
            continue
        try:
            text = repr(wire.decode_value(output["value"]))
        except (wire.WireError, ValueError, TypeError, RecursionError):
            text = None
        shown.append(text if text is None or len(text) <= RESULT_CHARS else text[:RESULT_CHARS])
    return shown


def model_inputs(
    problem: dict,
    client: ChatClient,
    seed: int,
    usage: Usage,
    codes: tuple[str, str],
    count: int,
    examples: list[list],
) -> list[list]:
    """The argument lists of the calls the model proposes to tell the two programs apart."""
    example = _call_text(problem["entry_point"], examples[0]) if examples else None
    messages, prefill = prompts.distinguishing_inputs(
        problem["prompt"], problem["entry_point"], codes, count, example
    )
    answer = usage.add(
        client.chat(
            messages,
            prefill=prefill,
            temperature=0.0,
            seed=seed,
            max_tokens=INPUT_TOKENS,
            stop=["\n```"],
        )
    )
    found = []
    for args in calls_in(prefill[len("```python\n") :] + answer.text, problem["entry_point"]):
        if args not in found:
            found.append(args)
    return found[:count]


def _verdict(client: ChatClient, seed: int, usage: Usage, messages, prefill) -> str | None:
    answer = usage.add(
        client.chat(messages, prefill=prefill, temperature=0.0, seed=seed, max_tokens=4)
    )
    letters = [c for c in answer.text.strip(" :*\n")[:3] if c in "AB"]
    return letters[0] if letters else None


def judge(
    problem: dict, client: ChatClient, seed: int, usage: Usage, call: str, results: tuple
) -> int:
    """+1 when the model prefers the runner-up's result in both orders, -1 when it prefers the
    leader's in both, 0 otherwise."""
    leader, runner_up = results
    first = _verdict(client, seed, usage, *prompts.judge_results(problem["prompt"], call, *results))
    swapped = _verdict(
        client, seed, usage, *prompts.judge_results(problem["prompt"], call, runner_up, leader)
    )
    if (first, swapped) == ("B", "A"):
        return 1
    if (first, swapped) == ("A", "B"):
        return -1
    return 0


def _call_text(entry_point: str, args: list) -> str:
    return f"{entry_point}({', '.join(repr(a) for a in args)})"


def distinguish(
    problem: dict,
    candidates: list[str],
    pair: tuple[list[int], list[int]],
    inputs: tuple[list[list], list[list]],
    client: ChatClient,
    sampling: Sampling,
    seed: int,
    usage: Usage,
    sandbox,
) -> tuple[list[int], dict]:
    """The behaviour to keep of a close pair (leader, runner-up), and the evidence that chose it.
    inputs: the docstring's example calls, and the inputs the vote compared the candidates on (the
    pair differs on some of them); calls the model proposes come first, then those."""
    examples, compared = inputs
    leader, runner_up = pair
    picks = (candidates[min(leader)], candidates[min(runner_up)])
    codes = (code_of(problem, picks[0]), code_of(problem, picks[1]))
    proposed = model_inputs(
        problem, client, seed, usage, codes, sampling.distinguishing_inputs, examples
    )
    kept = [args for args in proposed if shaped_like(args, examples)]
    calls = kept + [args for args in compared if args not in kept]
    shown = [shown_results(sandbox, problem, c, calls) if calls else [] for c in picks]
    votes, from_model = [], 0
    for position, (args, a, b) in enumerate(zip(calls, *shown)):
        if a == b or len(votes) == sampling.judged_inputs:
            continue
        call = _call_text(problem["entry_point"], args)
        vote = judge(problem, client, seed, usage, call, (a or "no result", b or "no result"))
        votes.append(vote)
        from_model += position < len(kept)
    switched = bool(votes) and all(vote == 1 for vote in votes)
    info = {
        "distinguish_proposed": len(proposed),
        "distinguish_kept": len(kept),
        "distinguish_judged_from_model": from_model,
        "distinguish_votes": votes,
        "distinguish_switched": switched,
    }
    return (runner_up if switched else leader), info
