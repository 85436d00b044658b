#!/usr/bin/env python3
"""llama.cpp vs vLLM on this machine, one backend after the other in one run: startup, tok/s, memory, pass@1.

For each backend: start its server on a spare port (its own output folder under output/bench/backends),
time it until ready, warm it up on the last two tasks, send the --sequential-tasks tasks after the scored
ones one at a time, then generate the first --tasks tasks with 4 requests in flight through the real
pipeline (greedy baseline), evaluate them in the sandbox, and stop the server. The three sets are disjoint
so that no request is answered from the server's prompt cache. Peak resident memory is the largest sum of RSS over the server's
processes, sampled twice a second. Keep the machine otherwise idle; the load average is printed.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qwen_humaneval import config  # noqa: E402
from qwen_humaneval.client import ChatClient  # noqa: E402
from qwen_humaneval.datasets import load_problems  # noqa: E402
from qwen_humaneval.evaluation import evaluate  # noqa: E402
from qwen_humaneval.generation import generate  # noqa: E402
from qwen_humaneval.strategies import Sampling  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))
from bench_generate import free_port, measure  # noqa: E402

START = {
    "llama.cpp": lambda port: [sys.executable, str(SCRIPTS / "start_server.py"), "--port", str(port), "--slots", "4"],
    "vllm": lambda port: [sys.executable, str(SCRIPTS / "start_vllm.py"), "--port", str(port)],
}


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in the server's process group (it runs in its own session)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...; rss is the 22nd
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


def bench_backend(name: str, problems: dict, sequential: list[dict], warm_up: list[dict]) -> dict:
    out_dir = config.OUTPUT_DIR / "bench" / "backends" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("solutions.jsonl", "results.jsonl"):
        for path in out_dir.glob(stale + "*"):
            path.unlink()
    env = {**os.environ, "OUTPUT_DIR": str(out_dir)}
    port = free_port()
    subprocess.run(START[name](port), env=env, check=True)
    launch = json.loads((out_dir / "server.json").read_text())
    base_url = f"http://127.0.0.1:{port}"
    try:
        with PeakMemory(launch["pid"]) as memory:
            client = ChatClient([base_url], config.MODEL_NAME)
            measure(client, warm_up, 2)
            idle_rss = group_rss_bytes(launch["pid"])
            one_in_flight = measure(client, sequential, 1)
            stats = generate(problems, client, out_dir / "solutions.jsonl", strategy="baseline", sampling=Sampling(),
                             concurrency=4, settings={"backend": name, "base_urls": [base_url]})
    finally:
        subprocess.run([sys.executable, str(SCRIPTS / "stop_server.py")], env=env)
    results = evaluate(out_dir / "solutions.jsonl", out_dir / "results.jsonl")
    return {
        "backend": name,
        "ready_seconds": launch["startup_seconds"],  # from launching the server until it answers
        "tok_s_1": round(one_in_flight["tokens_per_s"], 1),
        "tok_s_4": round(stats["completion_tokens"] / stats["wall_seconds"], 1),
        "tasks_per_min_4": round(60 * stats["samples"] / stats["wall_seconds"], 1),
        "rss_gib_idle": round(idle_rss / (1 << 30), 2),
        "rss_gib_peak": round(memory.peak / (1 << 30), 2),
        "passed": sum(r["passed"] for r in results),
        "tasks": len(results),
        "completion_tokens": stats["completion_tokens"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="llama.cpp,vllm")
    ap.add_argument("--tasks", type=int, default=40, help="first N HumanEval tasks, 4 in flight, scored for pass@1")
    ap.add_argument("--sequential-tasks", type=int, default=8, help="tasks after the scored ones, sent one at a time for tok/s at 1")
    args = ap.parse_args()
    everything = load_problems("humaneval")
    scored = dict(list(everything.items())[: args.tasks])
    listed = list(everything.values())
    sequential, warm_up = listed[args.tasks: args.tasks + args.sequential_tasks], listed[-2:]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rows = [bench_backend(name, scored, sequential, warm_up) for name in args.backends.split(",")]
    lines = ["| backend | ready | tok/s, 1 in flight | tok/s, 4 in flight | tasks/min, 4 in flight "
             "| RSS after warm-up | peak RSS | pass@1 |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['ready_seconds']:.0f} s | {r['tok_s_1']:.1f} | {r['tok_s_4']:.1f} "
                     f"| {r['tasks_per_min_4']:.1f} | {r['rss_gib_idle']:.1f} GiB | {r['rss_gib_peak']:.1f} GiB "
                     f"| {r['passed']}/{r['tasks']} |")
    load = f"load average after: {os.getloadavg()[0]:.2f}"
    print("\n".join(lines + [load]))
    (config.OUTPUT_DIR / "bench_backends.json").write_text(json.dumps(rows, indent=2) + "\n")
    (config.OUTPUT_DIR / "bench_backends.md").write_text("\n".join(lines + ["", load]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
