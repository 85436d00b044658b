"""What every benchmark shares: a free port, the load average, publishing a table, a server's
memory."""

import argparse
import json
import os
import socket
import sys
import threading
from pathlib import Path


def solutions_command(description: str, job) -> int:
    """The command line of a bench reading a selection run's solutions: job(solutions, workers,
    judges), a bad file reported as an error."""
    ap = argparse.ArgumentParser(description=description.split("\n\n")[0])
    ap.add_argument("--solutions", type=Path, required=True, help="an mbr-exec family run's")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--judges", default="", help="comma-separated datasets (default: every judge)")
    args = ap.parse_args()
    try:
        job(args.solutions, args.workers, tuple(j for j in args.judges.split(",") if j))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> float:
    return os.getloadavg()[0]


def publish(name: str, table: list[str], rows: list[dict], out: Path) -> None:
    """Print a benchmark's table with the load after it; keep it as out/<name>.md and its rows as
    .json."""
    lines = table + ["", f"load average after: {load_average():.2f}"]
    print("\n".join(lines))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    (out / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in the server's process group (it runs in its own
    session)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            # fields after the name: state, ppid, pgrp, ...; rss is the 22nd
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakMemory:
    def __init__(self, pgid: int):
        self.pgid, self.peak, self._stop = pgid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, group_rss_bytes(self.pgid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
