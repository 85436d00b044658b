#!/usr/bin/env bash
# Step 1 of the original workflow: serve Qwen with vLLM on CPU in Docker, on port 8000.
# Uses the model that `make serve BACKEND=vllm` converted into the cache when present, else the Hugging Face hub id (needs internet).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
CACHE="${QHE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen-humaneval}"
MODEL_DIR="$CACHE/vllm/qwen2.5-coder-1.5b-instruct-bf16"
docker build -t qwen-humaneval-vllm-cpu -f docker/Dockerfile.vllm-cpu docker
if [ -d "$MODEL_DIR" ]; then
  exec docker run --rm -p "127.0.0.1:$PORT:8000" -v "$MODEL_DIR:/model:ro" qwen-humaneval-vllm-cpu --model /model
else
  exec docker run --rm -p "127.0.0.1:$PORT:8000" -e HF_HUB_OFFLINE=0 qwen-humaneval-vllm-cpu --model Qwen/Qwen2.5-Coder-1.5B-Instruct
fi
