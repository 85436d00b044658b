#!/usr/bin/env python3
"""Start llama.cpp's llama-server with the verified Qwen GGUF on 127.0.0.1, in the background, and wait until ready."""
import argparse
import json
import os
import sys

from qwen_humaneval import config, server
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.llama_build import build
from qwen_humaneval.model_fetch import ensure_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default=config.HOST)
    ap.add_argument("--port", type=int, default=config.PORT)
    ap.add_argument("--slots", type=int, default=config.SLOTS, help="parallel sequences (requests batched together)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--ctx-per-slot", type=int, default=config.CTX_PER_SLOT, help="context tokens per slot")
    ap.add_argument("--ready-timeout", type=float, default=config.READY_TIMEOUT)
    args = ap.parse_args()
    try:
        model = ensure_model()
        binary = build(jobs=os.cpu_count() or 2)
    except (ArtifactError, OSError) as e:
        return server.fail(e)
    command = [
        str(binary), "--model", str(model), "--alias", config.MODEL_NAME,
        "--host", args.host, "--port", str(args.port),
        "--parallel", str(args.slots), "--ctx-size", str(args.slots * args.ctx_per_slot),
        "--threads", str(args.threads), "--cont-batching", "--no-webui", "--metrics",
    ]
    build_info = binary.parent / "build-info.json"
    facts = {
        "backend": "llama.cpp",
        "model_file": str(model), "model_sha256": config.MODEL_SHA256,
        "slots": args.slots, "threads": args.threads, "ctx_per_slot": args.ctx_per_slot,
        "build": json.loads(build_info.read_text()) if build_info.exists() else {},
    }
    try:
        server.launch(command, host=args.host, port=args.port, launch_facts=facts, ready_timeout=args.ready_timeout)
    except server.ServerStartError as e:
        return server.fail(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
