"""Build a llama.cpp tool (llama-server by default) from the pinned source release and cache the
binary (see llama_build.py)."""

import argparse

from .. import config
from ..llama_build import binary_path, build
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=config.cores())
    ap.add_argument("--target", default="llama-server", choices=["llama-server", "llama-quantize"])
    ap.add_argument(
        "--print-path", action="store_true", help="print where the binary lives and exit"
    )
    args = ap.parse_args()
    cache_dir = Settings.from_environ().cache_dir
    if args.print_path:
        print(binary_path(cache_dir, args.target))
        return 0
    build(cache_dir, args.jobs, args.target)
    return 0
