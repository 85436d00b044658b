"""llama.cpp against vLLM on this machine, one after the other (make bench-backends)."""

import argparse
import sys

from bench.common import PeakMemory, free_port, group_rss_bytes, load_average, publish
from bench.throughput import measure
from qwen_humaneval import server
from qwen_humaneval.client import ChatClient
from qwen_humaneval.datasets import load_problems
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.generation import generate
from qwen_humaneval.settings import Settings
from qwen_humaneval.strategies import Sampling
from qwen_humaneval.vllm_backend import start_vllm

START_SERVER = {
    "llama.cpp": lambda settings, port: server.start_llama(
        settings, server.ServeOptions(port=port, slots=4)
    ),
    "vllm": lambda settings, port: start_vllm(settings, port=port),
}


def bench_backend(
    name: str, problems: dict, sequential: list[dict], warm_up: list[dict], settings: Settings
) -> dict:
    out_dir = settings.output_dir / "bench" / "backends" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("solutions.jsonl", "results.jsonl"):
        for path in out_dir.glob(stale + "*"):
            path.unlink()
    port = free_port()
    launch = START_SERVER[name](settings.but(output_dir=out_dir), port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        with PeakMemory(launch["pid"]) as memory:
            client = ChatClient([base_url], settings.model)
            measure(client, warm_up, 2)
            idle_rss = group_rss_bytes(launch["pid"])
            one_in_flight = measure(client, sequential, 1)
            stats = generate(
                problems,
                client,
                out_dir / "solutions.jsonl",
                strategy="baseline",
                sampling=Sampling(),
                concurrency=4,
                recorded={"backend": name, "base_urls": [base_url]},
            )
    finally:
        server.stop(out_dir)
    results = evaluate(
        out_dir / "solutions.jsonl", out_dir / "results.jsonl", cache_dir=settings.cache_dir
    )
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


def bench_backends(
    settings: Settings,
    backends: tuple[str, ...] = ("llama.cpp", "vllm"),
    tasks: int = 40,
    sequential_tasks: int = 8,
) -> list[dict]:
    """llama.cpp vs vLLM on this machine, one backend after the other in one run: startup, tok/s,
    memory, pass@1.

    For each backend: start its server on a spare port (its own output folder under
    output/bench/backends), time it until ready, warm it up on the last two tasks, send the
    --sequential-tasks tasks after the scored ones one at a time, then generate the first --tasks
    tasks with 4 requests in flight through the real pipeline (greedy baseline), evaluate them in
    the sandbox, and stop the server. The three sets are disjoint so that no request is answered
    from the server's prompt cache. Peak resident memory is the largest sum of RSS over the server's
    processes, sampled twice a second. Keep the machine otherwise idle; the load average is printed.
    """
    everything = load_problems("humaneval", settings.cache_dir)
    scored = dict(list(everything.items())[:tasks])
    listed = list(everything.values())
    sequential, warm_up = listed[tasks : tasks + sequential_tasks], listed[-2:]
    print(f"load average before: {load_average():.2f}")
    rows = [bench_backend(name, scored, sequential, warm_up, settings) for name in backends]
    lines = [
        "| backend | ready | tok/s, 1 in flight | tok/s, 4 in flight | tasks/min, 4 in flight | "
        "RSS after warm-up | peak RSS | pass@1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['ready_seconds']:.0f} s | {r['tok_s_1']:.1f} | "
            f"{r['tok_s_4']:.1f} | {r['tasks_per_min_4']:.1f} | {r['rss_gib_idle']:.1f} GiB | "
            f"{r['rss_gib_peak']:.1f} GiB | {r['passed']}/{r['tasks']} |"
        )
    publish("bench_backends", lines, rows, settings.output_dir)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--backends",
        type=lambda s: tuple(s.split(",")),
        default=argparse.SUPPRESS,
        help="llama.cpp,vllm",
    )
    ap.add_argument(
        "--tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="first N HumanEval tasks, 4 in flight, scored for pass@1 (40)",
    )
    ap.add_argument(
        "--sequential-tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="tasks after the scored ones, sent one at a time for tok/s at 1 (8)",
    )
    bench_backends(Settings.from_environ(), **vars(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
