"""Start llama.cpp's llama-server with the verified Qwen GGUF on 127.0.0.1, in the background, and wait until ready."""

import argparse
import shlex

from .. import config, server
from ..artifacts import ArtifactError
from ..llama_build import build
from ..model_fetch import resolve
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default=config.HOST)
    ap.add_argument("--port", type=int, default=config.PORT)
    ap.add_argument("--slots", type=int, default=config.SLOTS, help="parallel sequences (requests batched together)")
    ap.add_argument("--threads", type=int, default=config.cores())
    ap.add_argument("--ctx-per-slot", type=int, default=config.CTX_PER_SLOT, help="context tokens per slot")
    ap.add_argument("--flash-attn", choices=("on", "off", "auto"), default=config.FLASH_ATTN)
    ap.add_argument(
        "--ubatch-size", type=int, default=config.UBATCH_SIZE, help="tokens per physical batch in prompt processing"
    )
    ap.add_argument(
        "--spec",
        choices=config.SPEC_TYPES,
        default=config.SPEC,
        help=f"speculative decoding: 'draft' drafts with {config.DRAFT_MODEL}, the ngram types need no model",
    )
    ap.add_argument("--llama-args", default="", help="more llama-server arguments, passed as they are (one string)")
    ap.add_argument("--ready-timeout", type=float, default=config.READY_TIMEOUT)
    args = ap.parse_args()
    try:
        model, sha256 = resolve()
        draft = resolve(config.DRAFT_MODEL)[0] if args.spec == "draft" else None
        binary = build(jobs=config.cores())
    except (ArtifactError, OSError) as e:
        return server.fail(e)
    command = server.llama_command(
        binary,
        model,
        host=args.host,
        port=args.port,
        slots=args.slots,
        threads=args.threads,
        ctx_per_slot=args.ctx_per_slot,
        flash_attn=args.flash_attn,
        ubatch_size=args.ubatch_size,
        spec=args.spec,
        draft=draft,
        extra=shlex.split(args.llama_args),
    )
    facts = {
        "backend": "llama.cpp",
        "model": config.MODEL_NAME,
        "model_file": str(model),
        "model_sha256": sha256,
        "slots": args.slots,
        "threads": args.threads,
        "ctx_per_slot": args.ctx_per_slot,
        "flash_attn": args.flash_attn,
        "ubatch_size": args.ubatch_size,
        "spec": args.spec,
        "draft_file": str(draft) if draft else None,
        "llama_args": args.llama_args,
        "build": server.build_info(binary),
    }
    try:
        server.launch(command, host=args.host, port=args.port, launch_facts=facts, ready_timeout=args.ready_timeout)
    except server.ServerStartError as e:
        return server.fail(e)
    return 0
