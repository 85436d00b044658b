#!/usr/bin/env bash
# Step 2 of the original workflow: build the pipeline image.
set -euo pipefail
cd "$(dirname "$0")/.."
docker build -t qwen-humaneval -f docker/Dockerfile .
