"""vLLM on CPU: its own virtual environment (.venv-vllm) and the GGUF converted to a bf16 model
directory."""

import os
import subprocess
import sys
from pathlib import Path

from . import config
from .interpreters import run_module
from .model_fetch import resolve
from .server import launch
from .settings import Settings

VLLM_VENV = config.REPO_ROOT / ".venv-vllm"


def ensure_venv() -> Path:
    python = VLLM_VENV / "bin" / "python"
    stamp = VLLM_VENV / ".installed"
    if stamp.exists():
        return python
    print(
        f"creating {VLLM_VENV} with {', '.join(config.VLLM_PACKAGES)} (a few minutes, about 3.4 "
        "GB)",
        flush=True,
    )
    subprocess.run([sys.executable, "-m", "venv", str(VLLM_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", config.VLLM_TORCH, *config.VLLM_PACKAGES],
        check=True,
    )
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "--quiet", "-y", *config.VLLM_REMOVE], check=False
    )
    stamp.touch()
    return python


def ensure_hf_model(gguf: Path, sha256: str, python: Path, dest: Path) -> Path:
    """The verified GGUF as a bf16 Hugging Face directory (dest), converted once inside the vLLM
    environment."""
    run_module("hf_convert", "--gguf", gguf, "--dest", dest, "--sha256", sha256, python=str(python))
    return dest


def start_vllm(
    settings: Settings,
    *,
    host: str = config.HOST,
    port: int = config.PORT,
    max_model_len: int = config.VLLM_MAX_MODEL_LEN,
    memory_fraction: float = config.VLLM_MEMORY_FRACTION,
    ready_timeout: float = config.VLLM_READY_TIMEOUT,
) -> dict:
    """`make serve BACKEND=vllm`: vLLM's OpenAI-compatible server on CPU with the settings' verified
    model, in the background, its files in settings.output_dir; returns the launch record once it
    answers."""
    gguf, sha256 = resolve(settings)
    python = ensure_venv()
    model_dir = ensure_hf_model(gguf, sha256, python, settings.hf_model_dir(settings.model))
    command = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir)]
    command += [
        "--served-model-name",
        settings.model,
        "--host",
        host,
        "--port",
        str(port),
        "--dtype",
        "bfloat16",
    ]
    command += ["--max-model-len", str(max_model_len), "--enforce-eager"]
    # on CPU: the share of the NUMA node's memory
    command += [
        "--gpu-memory-utilization",
        str(memory_fraction),
    ]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_TARGET_DEVICE": "cpu",
    }
    facts = {
        "backend": "vllm",
        "vllm": config.VLLM_PACKAGES[0],
        "model": settings.model,
        "model_dir": str(model_dir),
        "model_file": str(gguf),
        "model_sha256": sha256,
    }
    folder = settings.output_dir
    return launch(
        command,
        folder,
        host=host,
        port=port,
        launch_facts=facts,
        ready_timeout=ready_timeout,
        env=env,
    )
