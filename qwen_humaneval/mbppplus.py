"""MBPP+ (EvalPlus v0.1.0): its tasks with their inputs as the functions take them, and the special
oracles.

The file stores every input as JSON, which has no tuples, sets or complex numbers. Which tasks need
their inputs turned back into those types was found the way a dataset can say it itself: a task
whose stored base inputs break its own `contract` (the input checks EvalPlus wrote for it) needs
them, and so do the three tasks whose stored values stand in for types JSON lacks (Mbpp/115's sets,
Mbpp/124's and Mbpp/252's complex numbers, written as text). tests/test_mbppplus.py finds that set
again from the file, and compares the converted inputs with EvalPlus 0.3.1's on every task where
EvalPlus is installed. The conversion itself reads the types off the task's own first example (the
asserts in `assertion`): a list stands for a tuple or a set where the example has one, down to the
example's depth; three tasks take tuples at every depth and Mbpp/115 drops what is not a list, as
EvalPlus reads them.
"""

import ast
import json
from pathlib import Path

from .artifacts import ArtifactError

CONVERTED_TASKS = frozenset(
    f"Mbpp/{n}"
    for n in (
        2, 63, 64, 70, 75, 94, 106, 115, 116, 120, 124, 132, 143, 222, 237, 250, 252, 259, 261,
        272, 273, 278, 299, 394, 400, 405, 409, 413, 421, 424, 429, 438, 445, 446, 470, 473, 560,
        579, 580, 596, 614, 615, 616, 630, 720, 722, 726, 740, 744, 750, 753, 763, 780, 791, 808,
        809,
    )
)  # fmt: skip
# EvalPlus makes every list a tuple at every depth for these, past their example's depth: its
# choice, not the task's (Mbpp/278 has the same example and contract as Mbpp/791 and keeps its
# deeper lists).
TUPLES_THROUGHOUT = frozenset({"Mbpp/580", "Mbpp/615", "Mbpp/791"})
FIELDS = {
    "task_id": str,
    "prompt": str,
    "entry_point": str,
    "canonical_solution": str,
    "base_input": list,
    "plus_input": list,
    "atol": (int, float),
    "contract": str,
    "assertion": str,
}
# EvalPlus's special oracles, by entry point: where its differential test is not the task's meaning.
# re.Match outputs
ORACLES = {
    **dict.fromkeys(
        (
            "similar_elements",
            "find_char_long",
            "common_in_nested_lists",
            "extract_singly",
            "larg_nnum",
        ),
        "same_set",
    ),
    **dict.fromkeys(("intersection_array", "find_dissimilar", "Diff"), "same_set"),
    **dict.fromkeys(("check_str", "text_match_three", "text_starta_endb"), "not_none"),
    "are_equivalent": "any",  # Mbpp/164: the reference is wrong
    "sum_div": "or_zero",  # Mbpp/295
    # Mbpp/581: the reference reads the height as the slant height
    "surface_Area": "pyramid_surface",
    "digit_distance_nums": "digit_distance",  # Mbpp/558: numbers of different lengths, zero-padded
}


def example_arguments(task: dict) -> tuple:
    """The arguments of the task's first example call (in `assertion`), as Python values."""
    for node in ast.walk(ast.parse(task["assertion"])):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == task["entry_point"]
        ):
            return tuple(ast.literal_eval(argument) for argument in node.args)
    raise ValueError(f"no call of {task['entry_point']} in 'assertion'")


def _element_example(example):
    """Within a container, the example an element stored as a list follows: the first container in
    it."""
    return next((item for item in example if isinstance(item, (tuple, list, set, dict))), None)


def as_example(value, example):
    """value (as JSON stores it) with the container types of example, at every depth."""
    if isinstance(value, list) and isinstance(example, (tuple, list, set, dict)):
        # JSON writes a set as a list; the examples write {} for an empty one
        if isinstance(example, (set, dict)):
            return {} if not value else set(value)
        inner = _element_example(example)
        items = [as_example(item, inner) for item in value] if inner is not None else value
        return tuple(items) if isinstance(example, tuple) else items
    if isinstance(value, dict) and isinstance(example, dict) and example:
        inner = next(iter(example.values()))
        return {key: as_example(item, inner) for key, item in value.items()}
    return value


def _tuples_throughout(value):
    return tuple(_tuples_throughout(item) for item in value) if isinstance(value, list) else value


def _parses_as_number(value) -> bool:
    try:
        complex(value)
    except (TypeError, ValueError):
        return False
    return True


def _number_column(column) -> type | None:
    """complex or float for a column of numbers some of which are written as text, else None."""
    if not any(isinstance(v, str) for v in column) or not all(_parses_as_number(v) for v in column):
        return None
    return complex if any(isinstance(v, str) and "j" in v for v in column) else float


def converted(task: dict, inputs: list) -> list:
    """The task's inputs (base and plus together) as its functions take them (unchanged for a task
    outside CONVERTED_TASKS)."""
    if task["task_id"] not in CONVERTED_TASKS:
        return inputs
    example = example_arguments(task)
    columns = list(zip(*inputs)) if inputs else []
    # numbers written as text (JSON has no complex): complex throughout where any is complex, else
    # float
    number_columns = [_number_column(column) for column in columns]
    out = []
    for arguments in inputs:
        row = []
        for position, value in enumerate(arguments):
            shape = example[position] if position < len(example) else None
            if task["task_id"] in TUPLES_THROUGHOUT:
                row.append(_tuples_throughout(value))
            elif number_columns[position]:
                row.append(number_columns[position](value))
            elif (
                isinstance(shape, list) and shape and all(isinstance(i, (set, dict)) for i in shape)
            ):
                # Mbpp/115, a list of sets ({} is how its examples write an empty one): as EvalPlus
                # reads it, every item that is not a non-empty list becomes {} (its extra inputs'
                # dicts and None too)
                row.append([set(i) if isinstance(i, list) and i else {} for i in value])
            else:
                row.append(as_example(value, shape))
        out.append(row)
    return out


def task_from(record: dict, where: str) -> dict:
    if record.get("plus_input") == {}:  # Mbpp/793 stores its (no) extra inputs as {}
        record = {**record, "plus_input": []}
    for name, kind in FIELDS.items():
        if name not in record:
            raise ArtifactError(f"{where}: missing field {name!r}")
        if not isinstance(record[name], kind):
            raise ArtifactError(
                f"{where}: field {name!r} is {type(record[name]).__name__}, not {kind}"
            )
    task = dict(record)
    base = len(record["base_input"])
    try:
        inputs = converted(task, record["base_input"] + record["plus_input"])
    except (SyntaxError, ValueError, TypeError, IndexError) as e:
        raise ArtifactError(
            f"{where}: field 'base_input'/'plus_input' of {record['task_id']}: {e}"
        ) from None
    task["base_input"], task["plus_input"] = inputs[:base], inputs[base:]
    task["oracle"] = ORACLES.get(task["entry_point"])
    return task


def load(path: Path) -> dict[str, dict]:
    tasks = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                raise ArtifactError(f"{path}:{lineno}: not JSON ({e})") from None
            task = task_from(record, f"{path}:{lineno}")
            tasks[task["task_id"]] = task
    return tasks
