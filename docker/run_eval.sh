#!/usr/bin/env bash
# Step 4: evaluate output/solutions.jsonl in the sandbox -> output/results.jsonl, then print the success rate.
# --privileged lets the sandbox create its namespaces inside the container.
set -euo pipefail
cd "$(dirname "$0")/.."
exec docker run --rm --privileged -v "$PWD/output:/app/output" qwen-humaneval eval report VERBOSE=1 "$@"
