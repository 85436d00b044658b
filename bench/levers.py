"""What makes `make all` faster: each lever against the default before it, a fresh server each (make
bench)."""

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field

from bench.common import PeakMemory, free_port, load_average, publish
from bench.throughput import measure
from qwen_humaneval import config, server
from qwen_humaneval.artifacts import ArtifactError
from qwen_humaneval.client import ChatClient, ServerError
from qwen_humaneval.datasets import load_problems
from qwen_humaneval.evaluation import evaluate
from qwen_humaneval.generation import generate
from qwen_humaneval.metrics import server_metrics
from qwen_humaneval.prompts import CONTINUATION_STOPS
from qwen_humaneval.server import ServeOptions
from qwen_humaneval.settings import Settings
from qwen_humaneval.strategies import Sampling


@dataclass(frozen=True)
class Lever:
    """One way to run `make all`: llama-server's arguments and the client's prompt style and
    sampling."""

    what: str
    server: dict = field(default_factory=dict)  # ServeOptions fields on top of the defaults
    style: str = config.STYLE
    samples: int = 1  # > 1: sampled at TEMPERATURE_SEVERAL, on `sample_tasks` tasks
    one_prefill: bool = True
    model: str | None = None  # another pinned model than the run's
    stops: tuple = CONTINUATION_STOPS


# "before" pins the default of 2026-11-26 explicitly, so it stays the baseline when the defaults
# move.
BEFORE = {"flash_attn": "auto", "ubatch_size": 512, "spec": "none"}
BEFORE_STOPS = ("\n```", "\nif __name__", "\nprint(", "\nassert ")
LEVERS = {
    "before": Lever(
        "default before (problem twice: request + prefill)",
        BEFORE,
        style="prefill",
        stops=BEFORE_STOPS,
    ),
    "default": Lever("default now (make all)"),
    "stop-comments": Lever("stop at a top-level comment", BEFORE, style="prefill"),
    "signature": Lever(
        "problem once: signature prefill", BEFORE, style="signature", stops=BEFORE_STOPS
    ),
    "fa-off": Lever("flash attention off", {"flash_attn": "off"}),
    "fa-on": Lever("flash attention on", {"flash_attn": "on"}),
    "ubatch-256": Lever("prompt batches of 256 tokens", {"ubatch_size": 256}),
    "ubatch-1024": Lever("prompt batches of 1024 tokens", {"ubatch_size": 1024}),
    "slots-2": Lever("2 slots (2 in flight)", {"slots": 2}),
    "slots-8": Lever("8 slots (8 in flight)", {"slots": 8}),
    "slots-16": Lever("16 slots (16 in flight)", {"slots": 16}),
    "ngram-simple": Lever("speculative: ngram-simple", {"spec": "ngram-simple"}),
    "ngram-mod": Lever("speculative: ngram-mod", {"spec": "ngram-mod"}),
    "draft": Lever(f"speculative: {config.DRAFT_MODEL} draft", {"spec": "draft"}),
    "small": Lever(f"the small model: {config.DRAFT_MODEL}", model=config.DRAFT_MODEL),
    "samples-apart": Lever("5 samples, one request each", samples=5, one_prefill=False),
    "samples-n": Lever("5 samples, one request with n=5", samples=5),
}


def processed_tokens(base_url: str) -> tuple[int, int]:
    """(prompt tokens processed, tokens generated) so far, from llama-server's /metrics: cached
    prompt tokens are not counted."""
    values = server_metrics(base_url, timeout=10)
    if values is None:
        raise ServerError(f"{base_url}/metrics did not answer (llama-server runs with --metrics)")
    return int(values.get("llamacpp:prompt_tokens_total", 0)), int(
        values.get("llamacpp:tokens_predicted_total", 0)
    )


def run_lever(key: str, problems: dict, warm_up: list[dict], settings: Settings) -> dict:
    """Start a fresh server for the lever, warm it up, generate and evaluate; wall time from launch
    to verdicts."""
    lever = LEVERS[key]
    out_dir = settings.output_dir / "bench" / "levers" / key
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.jsonl*"):
        stale.unlink()
    run = settings.but(output_dir=out_dir, model=lever.model or settings.model)
    port = free_port()
    start = time.time()
    launch = server.start_llama(run, dataclasses.replace(ServeOptions(port=port), **lever.server))
    ready = time.time() - start
    several = lever.samples > 1
    sampling = Sampling(
        style=lever.style,
        one_prefill=lever.one_prefill,
        stops=lever.stops,
        temperature=config.TEMPERATURE_SEVERAL if several else config.TEMPERATURE_ONE_SAMPLE,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        client = ChatClient([base_url], run.model, max_n=launch["slots"])
        measure(client, warm_up, 2)  # page the model in, outside the clock
        prompt_before, _ = processed_tokens(base_url)
        start = time.time()
        with PeakMemory(launch["pid"]) as memory:
            stats = generate(
                problems,
                client,
                out_dir / "solutions.jsonl",
                strategy="baseline",
                sampling=sampling,
                samples=lever.samples,
                concurrency=launch["slots"],
                recorded={"lever": key},
            )
        generate_seconds = time.time() - start
        prompt_processed = processed_tokens(base_url)[0] - prompt_before
    finally:
        server.stop(out_dir)
    start = time.time()
    results = evaluate(
        out_dir / "solutions.jsonl", out_dir / "results.jsonl", cache_dir=settings.cache_dir
    )
    eval_seconds = time.time() - start
    try:  # HumanEval+ too, outside the clock, where its dataset is at hand
        plus_results = out_dir / "results_humanevalplus.jsonl"
        plus = evaluate(
            out_dir / "solutions.jsonl",
            plus_results,
            cache_dir=settings.cache_dir,
            dataset="humanevalplus",
        )
        plus_pass = round(100 * sum(r["passed"] for r in plus) / len(plus), 2)
    except ArtifactError:
        plus_pass = None
    return {
        "lever": key,
        "peak_rss_gib": round(memory.peak / (1 << 30), 2),
        "pass_at_1_plus": plus_pass,
        "what": lever.what,
        "tasks": len(problems),
        "samples": len(results),
        "ready_seconds": round(ready, 1),
        "generate_seconds": round(generate_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "wall_seconds": round(ready + generate_seconds + eval_seconds, 1),
        "prompt_tokens": stats["prompt_tokens"],
        "prompt_tokens_processed": prompt_processed,
        "completion_tokens": stats["completion_tokens"],
        "tok_s": round(stats["completion_tokens"] / generate_seconds, 1),
        "passed": sum(r["passed"] for r in results),
        "pass_at_1": round(100 * sum(r["passed"] for r in results) / len(results), 2),
        "load_before": round(load_average(), 2),
    }


def bench_levers(
    settings: Settings,
    levers: tuple[str, ...] = tuple(LEVERS),
    tasks: int = 24,
    sample_tasks: int = 6,
) -> list[dict]:
    """Each lever against "before" (the default of 2026-11-26) on the same tasks, one after the
    other in one run.

    Every lever gets a fresh server (llama-server keeps prompts in its slots and in RAM, so a reused
    server would answer later levers from its cache), warmed up on the last two tasks, which are
    never measured; then the greedy baseline on the first `tasks` tasks (5 samples at temperature
    0.8 on the first `sample_tasks` for the sampling levers), evaluated in the sandbox. The wall
    time counts what `make all` does: server start, generation, evaluation. Levers sharing a task
    set are compared with the first row of that set.
    """
    unknown = [k for k in levers if k not in LEVERS]
    if unknown:
        raise ValueError(f"unknown levers {unknown}; choose from {', '.join(LEVERS)}")
    everything = load_problems("humaneval", settings.cache_dir)
    listed = list(everything.values())
    print(
        f"load average before: {load_average():.2f}; {tasks} tasks per lever ({sample_tasks} for "
        "sampling levers)"
    )
    rows = []
    for key in levers:
        n = sample_tasks if LEVERS[key].samples > 1 else tasks
        rows.append(run_lever(key, dict(list(everything.items())[:n]), listed[-2:], settings))
        print(json.dumps(rows[-1]), flush=True)
    lines = [
        "| lever | tasks x samples | wall (serve+generate+eval) | vs first row | prompt tokens "
        "(processed) | completion tokens | completion tok/s | server peak RSS | pass@1 | "
        "HumanEval+ |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = next(b for b in rows if (b["tasks"], b["samples"]) == (r["tasks"], r["samples"]))
        lines.append(
            f"| {r['what']} | {r['tasks']} x {r['samples'] // r['tasks']} | "
            f"{r['wall_seconds']:.0f} s | {base['wall_seconds'] / r['wall_seconds']:.2f}x | "
            f"{r['prompt_tokens']:,} ({r['prompt_tokens_processed']:,}) | "
            f"{r['completion_tokens']:,} | {r['tok_s']:.1f} | {r['peak_rss_gib']:.1f} GiB | "
            f"{r['pass_at_1']:.1f}% ({r['passed']}/{r['samples']}) | "
            f"{'-' if r['pass_at_1_plus'] is None else format(r['pass_at_1_plus'], '.1f') + '%'} |"
        )
    publish("bench_levers", lines, rows, settings.output_dir)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--levers",
        type=lambda s: tuple(s.split(",")),
        default=argparse.SUPPRESS,
        help=f"comma-separated, in order (default: all): {','.join(LEVERS)}",
    )
    ap.add_argument(
        "--tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="the first N tasks, greedy (24; 164 for the full run)",
    )
    ap.add_argument(
        "--sample-tasks",
        type=int,
        default=argparse.SUPPRESS,
        help="tasks for the 5-sample levers (6)",
    )
    try:
        bench_levers(Settings.from_environ(), **vars(ap.parse_args()))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
