"""vLLM on CPU: its own virtual environment (.venv-vllm) and the GGUF converted to a bf16 model directory."""

import subprocess
import sys
from pathlib import Path

from . import config
from .interpreters import run_module

VLLM_VENV = config.REPO_ROOT / ".venv-vllm"
HF_MODEL_DIR = config.hf_model_dir(config.MODEL_NAME)


def ensure_venv() -> Path:
    python = VLLM_VENV / "bin" / "python"
    stamp = VLLM_VENV / ".installed"
    if stamp.exists():
        return python
    print(f"creating {VLLM_VENV} with {', '.join(config.VLLM_PACKAGES)} (a few minutes, about 3.4 GB)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VLLM_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", config.VLLM_TORCH, *config.VLLM_PACKAGES], check=True
    )
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "-y", *config.VLLM_REMOVE], check=False)
    stamp.touch()
    return python


def ensure_hf_model(gguf: Path, sha256: str, python: Path) -> Path:
    """The verified GGUF as a bf16 Hugging Face directory, converted once inside the vLLM environment."""
    run_module("hf_convert", "--gguf", gguf, "--dest", HF_MODEL_DIR, "--sha256", sha256, python=str(python))
    return HF_MODEL_DIR
