#!/usr/bin/env python3
"""Stop the server that `make serve` started (exactly that process, from its pid file)."""

from qwen_humaneval import server

if __name__ == "__main__":
    print("server stopped" if server.stop() else "no server running (nothing to stop)")
