"""Start llama.cpp's llama-server with the verified Qwen GGUF on 127.0.0.1, in the background, and
wait until ready."""

import argparse

from .. import config
from ..server import ServeOptions, start_llama
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    default = ServeOptions()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default=default.host)
    ap.add_argument("--port", type=int, default=default.port)
    ap.add_argument(
        "--slots",
        type=int,
        default=default.slots,
        help="parallel sequences (requests batched together)",
    )
    ap.add_argument("--threads", type=int, default=default.threads, help="0: every core")
    ap.add_argument(
        "--ctx-per-slot", type=int, default=default.ctx_per_slot, help="context tokens per slot"
    )
    ap.add_argument("--flash-attn", choices=("on", "off", "auto"), default=default.flash_attn)
    ap.add_argument(
        "--ubatch-size",
        type=int,
        default=default.ubatch_size,
        help="tokens per physical batch in prompt processing",
    )
    ap.add_argument(
        "--spec",
        choices=config.SPEC_TYPES,
        default=default.spec,
        help=f"speculative decoding: 'draft' drafts with {config.DRAFT_MODEL}, the ngram types "
        "need no model",
    )
    ap.add_argument(
        "--llama-args",
        default="",
        help="more llama-server arguments, passed as they are (one string)",
    )
    ap.add_argument("--ready-timeout", type=float, default=default.ready_timeout)
    options = ServeOptions(**vars(ap.parse_args()))
    start_llama(Settings.from_environ(), options)
    return 0
