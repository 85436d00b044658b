#!/usr/bin/env bash
# Step 3: send the 164 HumanEval prompts to the server on port 8000 -> output/solutions.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
mkdir -p output
exec docker run --rm --network host -v "$PWD/output:/app/output" qwen-humaneval \
  generate BASE_URL="http://127.0.0.1:$PORT" VERBOSE=1 "$@"
