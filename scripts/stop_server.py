#!/usr/bin/env python3
"""Stop the server that `make serve` started (exactly that process, from its pid file)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import server  # noqa: E402

if __name__ == "__main__":
    print("server stopped" if server.stop() else "no server running (nothing to stop)")
