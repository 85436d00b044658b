"""Generation throughput: the original sequential client against 1, 2, 4, 8 requests in flight
(make bench-concurrency)."""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import free_port, load_average
from qwen_humaneval import server
from qwen_humaneval.client import ChatClient
from qwen_humaneval.datasets import load_problems
from qwen_humaneval.settings import Settings
from qwen_humaneval.strategies import Sampling, baseline


def measure(client: ChatClient, problems: list[dict], concurrency: int) -> dict:
    sampling = Sampling()
    start = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        records = list(pool.map(lambda p: baseline(p, client, sampling, sampling.seed), problems))
    elapsed = time.time() - start
    tokens = sum(r["completion_tokens"] for r in records)
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "completion_tokens": tokens,
        "tokens_per_s": tokens / elapsed,
        "tasks_per_min": 60 * len(problems) / elapsed,
    }


def bench_generate(
    settings: Settings, tasks: int = 16, levels: tuple[int, ...] = (1, 2, 4, 8)
) -> list[dict]:
    """Generation throughput against llama-server: the original sequential client vs 1, 2, 4, 8
    requests in flight.

    Each level gets a fresh server with 8 slots on a spare port, warmed up on two tasks outside the
    measured set: llama-server keeps each slot's last prompt, so a server reused across levels would
    answer later levels from its prompt cache and flatter them. The same greedy requests go out at
    each level; it prints completion tokens/s, tasks/min and the ratio to the sequential baseline,
    all measured in this one run. Keep the machine otherwise idle: the load average is printed
    beside the numbers.
    """
    problems = list(load_problems("humaneval", settings.cache_dir).values())
    measured, warm_up = problems[:tasks], problems[-2:]
    run = settings.but(output_dir=settings.output_dir / "bench")
    labels = {
        1: "1 in flight (original sequential client)",
        4: "4 in flight (make generate default)",
    }
    print(
        f"load average before: {load_average():.2f}; {len(measured)} tasks per level, greedy, a "
        "fresh server with 8 slots per level"
    )
    rows = []
    for level in levels:
        port = free_port()
        server.start_llama(run, server.ServeOptions(port=port, slots=8))
        try:
            client = ChatClient([f"http://127.0.0.1:{port}"], run.model)
            measure(client, warm_up, 2)  # page the model in
            rows.append(
                {
                    "label": labels.get(level, f"{level} in flight"),
                    **measure(client, measured, level),
                }
            )
        finally:
            server.stop(run.output_dir)
    base = next(r for r in rows if r["concurrency"] == 1)["tasks_per_min"]
    print(f"{'client':38s} {'tok/s':>7s} {'tasks/min':>10s} {'vs sequential':>14s}")
    for r in rows:
        print(
            f"{r['label']:38s} {r['tokens_per_s']:7.1f} {r['tasks_per_min']:10.1f} "
            f"{r['tasks_per_min'] / base:13.2f}x"
        )
    print(f"load average after: {load_average():.2f}")
    (settings.output_dir / "bench_generate.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="tasks sent at each level (the first N of HumanEval; 16)",
    )
    ap.add_argument(
        "--levels",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=argparse.SUPPRESS,
        help="1,2,4,8",
    )
    bench_generate(Settings.from_environ(), **vars(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
