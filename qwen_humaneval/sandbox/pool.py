"""The evaluator's side of the sandbox: N workers started once, fed jobs from as many threads."""

import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .. import config
from . import wire

REQUIRED_LAYERS = (
    "network",
    "ipc_namespace",
    "uts_namespace",
    "read_only_mounts",
    "pid_namespace",
    "minimal_root",
    "drop_privileges",
    "seccomp",
)
RESULT_CHARS = 2 * wire.MAX_ERROR_CHARS
# Where the datasets may lie outside the cache (the users' own copies): never shown in the jail.
DATASET_PATH_VARIABLES = ("HUMANEVALPLUS_PATH", "MBPP_PATH", "MBPPPLUS_PATH")


def package_dirs(names=config.SANDBOX_PACKAGES) -> list[str]:
    """The installed directories of the packages candidates may import (and of the shared libraries
    a wheel keeps beside them, numpy.libs), found without importing them."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        directory = os.path.realpath(list(spec.submodule_search_locations)[0])
        found += [d for d in (directory, directory + ".libs") if os.path.isdir(d)]
    return found


def answer_key_paths(cache_dir: Path) -> list[str]:
    """What the jail must not show even where it lies under a tree bound into it: the cache
    (datasets, expected outputs), the users' dataset files, this package and the checkout it lives
    in."""
    if cache_dir is None:
        raise TypeError("a sandbox needs the run's cache directory, to hide it from candidates")
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkout = os.path.dirname(package)
    paths = [str(cache_dir), package] + [
        os.environ[v] for v in DATASET_PATH_VARIABLES if os.environ.get(v)
    ]
    if os.path.exists(os.path.join(checkout, "pyproject.toml")):
        paths.append(checkout)
    return paths


class SandboxError(RuntimeError):
    pass


class SandboxPool:
    """Run jobs (see judge.py for their kinds) in sandbox workers; execute() is thread-safe.
    cache_dir: the run's cache (datasets, expected outputs), hidden from the candidates with the
    rest of the answer key."""

    def __init__(
        self,
        workers: int,
        cache_dir: Path,
        memory_bytes: int = config.SANDBOX_MEMORY_BYTES,
        scratch_bytes: int = config.SANDBOX_SCRATCH_BYTES,
    ):
        self.hidden = answer_key_paths(cache_dir)
        self.memory_bytes = memory_bytes
        self.scratch_bytes = scratch_bytes
        self._base = tempfile.mkdtemp(prefix="qhe-sandbox-")
        os.chmod(self._base, 0o711)
        self._procs = []
        try:
            for i in range(workers):
                self._procs.append(self._start(i))
        except BaseException:
            self.close()
            raise
        self._free = queue.Queue()
        for slot in range(workers):
            self._free.put(slot)
        self.layers = self._procs[0][1]
        self.warnings = []
        if "error" in self.layers:
            self.warnings.append(self.layers["error"])
        missing = [k for k in REQUIRED_LAYERS if not self.layers.get(k)]
        if missing:
            self.warnings.append("sandbox layers NOT active: " + ", ".join(missing))
        if self.layers.get("writable_mounts"):
            self.warnings.append(
                "mounts left writable: " + ", ".join(self.layers["writable_mounts"])
            )

    def _start(self, index: int):
        # the worker's range of uids: apart from other pools' as well
        slot = os.getpid() * 64 + index
        scratch = os.path.join(self._base, f"w{index}")
        os.makedirs(scratch, exist_ok=True)
        os.chmod(scratch, 0o777)
        root = os.path.join(self._base, f"root{index}")
        os.makedirs(root, exist_ok=True)  # here: inside the worker every host mount is read-only
        proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-m",
                "qwen_humaneval.sandbox.worker",
                "--root",
                root,
                "--scratch",
                scratch,
                "--scratch-bytes",
                str(self.scratch_bytes),
                "--memory-bytes",
                str(self.memory_bytes),
                "--index",
                str(slot),
                "--uid-base",
                str(config.SANDBOX_UID_BASE),
                *[f"--package-dir={d}" for d in package_dirs()],
                *[f"--hide={p}" for p in self.hidden],
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = proc.stdout.readline()
        if not hello:
            raise SandboxError(f"sandbox worker {index} failed to start (exit code {proc.wait()})")
        layers = json.loads(hello)["layers"]
        if "error" in layers and not os.environ.get("QHE_ALLOW_UNSANDBOXED"):
            proc.wait()
            raise SandboxError(
                f"cannot sandbox evaluations here: {layers['error']}. Run as root with "
                "CAP_SYS_ADMIN (docker: --privileged), or where user namespaces are enabled "
                "(QHE_SANDBOX_USERNS=1 uses them when root lacks CAP_SYS_ADMIN); "
                "QHE_ALLOW_UNSANDBOXED=1 runs them with rlimits, the deadline and the "
                "judge/candidate split only (at your own risk)."
            )
        return proc, layers

    def execute(self, job: dict, timeout: float) -> dict:
        """Run one job on a free worker (blocks while all are busy). Returns {'result', 'duration',
        ...}."""
        slot = self._free.get()
        try:
            proc = self._procs[slot][0]
            try:
                proc.stdin.write(json.dumps({"job": job, "timeout": timeout}) + "\n")
                proc.stdin.flush()
                verdict = json.loads(proc.stdout.readline())
            except (OSError, ValueError):
                proc.kill()
                proc.wait()
                self._procs[slot] = self._start(slot)
                return {
                    "result": "failed: sandbox worker died",
                    "duration": 0.0,
                    "infrastructure": True,
                }
        finally:
            self._free.put(slot)
        # The judge made its text safe; this is the last line before a verdict is stored.
        verdict["result"] = wire.safe_text(verdict.get("result"), RESULT_CHARS)
        return verdict

    @property
    def workers(self) -> int:
        return len(self._procs)

    def run(self, jobs, timeout: float | None = None):
        """jobs: iterable of (key, job) run with timeout, or (key, job, its own timeout). Yields
        (key, verdict) as verdicts arrive."""
        with ThreadPoolExecutor(max_workers=len(self._procs)) as threads:
            futures = {
                threads.submit(self.execute, item[1], item[2] if len(item) > 2 else timeout): item[
                    0
                ]
                for item in jobs
            }
            for future in as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        for proc, _ in self._procs:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
