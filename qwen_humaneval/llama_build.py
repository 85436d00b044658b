"""Build llama.cpp's tools (llama-server; llama-quantize for fine-tuned models) from the pinned
source release and cache the binaries.

The source comes from the llama-cpp-python sdist on PyPI (it vendors llama.cpp, its GGUF converter
convert_hf_to_gguf.py and gguf-py too). Binaries are cached under CACHE_DIR/llama.cpp/<key>/ where
key hashes the release, the CMake flags and this CPU's feature flags, so a rebuild happens only when
one of them changes.
"""

import hashlib
import json
import platform
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from tqdm import tqdm

from . import config
from .artifacts import ArtifactError, pip_download, verify


def cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return platform.processor()


def build_key() -> str:
    material = json.dumps(
        [config.LLAMA_SDIST_VERSION, config.LLAMA_CMAKE_FLAGS, cpu_flags(), platform.machine()]
    )
    return f"{config.LLAMA_SDIST_VERSION}-{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def binary_path(cache_dir: Path, target: str = "llama-server") -> Path:
    return cache_dir / "llama.cpp" / build_key() / target


def source_dir(cache_dir: Path) -> Path:
    """The pinned llama.cpp source tree (extracted on first use)."""
    work = binary_path(cache_dir).parent
    work.mkdir(parents=True, exist_ok=True)
    return fetch_source(work, cache_dir / "downloads")


def fetch_source(work: Path, downloads: Path) -> Path:
    sdist = pip_download(
        f"{config.LLAMA_SDIST}=={config.LLAMA_SDIST_VERSION}", downloads, sdist=True
    )
    verify(sdist, sha256=config.LLAMA_SDIST_SHA256)
    src = work / "src"
    if not (src / "CMakeLists.txt").exists():
        shutil.rmtree(src, ignore_errors=True)
        prefix = f"llama_cpp_python-{config.LLAMA_SDIST_VERSION}/vendor/llama.cpp/"
        tmp = work / "src.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            for m in members:
                m.name = m.name[len(prefix) :]
            tar.extractall(tmp, members=[m for m in members if m.name], filter="data")
        tmp.rename(src)
    return src


class BuildError(ArtifactError):
    """The build failed; the message names the full log."""


PROGRESS = re.compile(r"^\[\s*(\d+)(?:/(\d+)|%)\]")  # ninja's "[12/345]" and make's "[ 42%]"


def run_logged(command: list[str], log: Path, desc: str) -> None:
    """Run a build step with its output appended to log, showing one progress bar instead of the
    compiler's lines."""
    with (
        open(log, "a") as out,
        tqdm(
            total=100, desc=desc, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}"
        ) as bar,
    ):
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout:
            out.write(line)
            match = PROGRESS.match(line)
            if match:
                done, total = int(match.group(1)), int(match.group(2) or 100)
                bar.update(max(0, round(100 * done / total) - bar.n))
        if process.wait() != 0:
            tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-25:])
            raise BuildError(f"{desc} failed (exit {process.returncode}); full log: {log}\n{tail}")
        bar.update(100 - bar.n)


BUILD_MINUTES = {"llama-server": "7-16", "llama-quantize": "4-8"}


def build(cache_dir: Path, jobs: int, target: str = "llama-server") -> Path:
    binary = binary_path(cache_dir, target)
    if binary.exists():
        print(f"{target} cached: {binary}")
        return binary
    work = binary.parent
    src = source_dir(cache_dir)
    build_dir = work / f"build-{target}"
    log = work / ("build.log" if target == "llama-server" else f"build-{target}.log")
    log.unlink(missing_ok=True)
    print(
        f"Building {target} {config.LLAMA_SDIST_VERSION} ({BUILD_MINUTES.get(target, 'a few')} min "
        f"on 2 cores); compiler output: {log}",
        flush=True,
    )
    start = time.time()
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    run_logged(
        ["cmake", "-S", str(src), "-B", str(build_dir), *generator, *config.LLAMA_CMAKE_FLAGS],
        log,
        "configure",
    )
    run_logged(
        ["cmake", "--build", str(build_dir), "--target", target, "-j", str(jobs)], log, "compile"
    )
    built = build_dir / "bin" / target
    tmp = binary.with_suffix(".partial")
    shutil.copy2(built, tmp)
    info = {
        "llama_cpp_python_sdist": config.LLAMA_SDIST_VERSION,
        "cmake_flags": config.LLAMA_CMAKE_FLAGS,
        "build_seconds": round(time.time() - start, 1),
        "version": subprocess.run(
            [str(tmp), "--version"], capture_output=True, text=True
        ).stderr.strip(),
    }
    (
        work / ("build-info.json" if target == "llama-server" else f"{target}.build-info.json")
    ).write_text(json.dumps(info, indent=2) + "\n")
    tmp.rename(binary)  # last step: a binary in place means a finished build
    shutil.rmtree(build_dir, ignore_errors=True)
    print(f"{target} built in {info['build_seconds']}s: {binary}")
    return binary
