#!/usr/bin/env python3
"""Start llama.cpp's llama-server with the verified Qwen GGUF on 127.0.0.1, in the background, and wait until ready."""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import config, server  # noqa: E402
from qwen_humaneval.artifacts import ArtifactError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_llama_server import build  # noqa: E402
from fetch_model import ensure_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    ap.add_argument("--slots", type=int, default=4, help="parallel sequences (requests batched together)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--ctx-per-slot", type=int, default=2048, help="context tokens per slot")
    ap.add_argument("--ready-timeout", type=float, default=300)
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
