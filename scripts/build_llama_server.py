#!/usr/bin/env python3
"""Build llama.cpp's llama-server from the pinned source release and cache the binary (see llama_build.py)."""
import argparse
import os
import subprocess
import sys

from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.llama_build import build, server_binary_path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--print-path", action="store_true", help="print where the binary lives and exit")
    args = ap.parse_args()
    if args.print_path:
        print(server_binary_path())
        return 0
    try:
        build(args.jobs)
    except (ArtifactError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
