#!/usr/bin/env python3
"""Stop the server that `make serve` started (exactly that process, from its pid file)."""

import sys

from qwen_humaneval.cli.stop_server import main

if __name__ == "__main__":
    sys.exit(main())
