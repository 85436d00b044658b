"""Resumable generation: which samples an earlier run left, the settings a resumed run must match,
the wall time over every resumed part, and the loop that keeps requests in flight."""

import json
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

from .client import ServerError
from .jsonl_io import InputError, JsonlAppender, load_finished, write_jsonl_atomic
from .manifest import write_manifest

# Settings that change what a solution is: resuming under different ones would mix two runs.
IDENTITY = (
    "dataset",
    "strategy",
    "model",
    "samples",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "style",
    "stops",
    "repair_rounds",
    "candidates",
    "codet_tests",
    "candidate_temperature",
    "mbr_inputs",
    "probe",
)


def read_finished(path: Path, problems: dict, samples: int) -> dict[tuple, dict]:
    def key(lineno: int, record: dict) -> tuple:
        if record["task_id"] not in problems:
            raise InputError(
                f"{path}:{lineno}: field 'task_id': unknown task {record['task_id']!r}"
            )
        if not 0 <= record["sample"] < samples:
            raise InputError(
                f"{path}:{lineno}: field 'sample': {record['sample']} is outside 0..{samples - 1}"
            )
        return record["task_id"], record["sample"]

    return load_finished(
        path, required={"task_id": str, "sample": int, "completion": str}, key=key, what="sample"
    )


def check_resumable(output: Path, previous: dict | None, settings: dict) -> None:
    """Refuse to append to a file generated with other identity settings (previous: its
    manifest)."""
    if not previous:
        return
    old = previous.get("settings", {})
    # as the manifest holds them (tuples become lists)
    now = json.loads(json.dumps(settings, default=str))
    changed = [k for k in IDENTITY if k in old and old.get(k) != now.get(k)]
    if changed:
        details = ", ".join(f"{k}: {old.get(k)!r} -> {settings.get(k)!r}" for k in changed)
        raise InputError(
            f"{output} was generated with other settings ({details}); choose another OUTPUT or "
            "delete it to start over"
        )


class Clock:
    """Time spent on one output over every resumed run, written into its manifest at each change of
    status."""

    def __init__(self, output: Path, settings: dict, earlier_seconds: float):
        self.output, self.settings, self.earlier = output, settings, earlier_seconds
        self.start = time.time()

    def elapsed(self) -> float:
        return time.time() - self.start

    def mark(self, status: str, samples: int) -> None:
        spent = {"samples": samples, "wall_seconds_total": round(self.earlier + self.elapsed(), 1)}
        write_manifest(self.output, "generate", self.settings, status=status, stats=spent)


def run_in_flight(
    todo: list[tuple],
    work,
    concurrency: int,
    output: Path,
    done: dict,
    *,
    verbose: bool,
    desc: str,
    stop=None,
):
    """Keep `concurrency` items (task_id, samples) in flight and append each finished record.
    Returns the first server error (after which nothing new starts and the items in flight finish),
    or None. On Ctrl-C, stop() cancels the requests in flight, so the run ends now rather than when
    their answers come."""
    error = None
    total = sum(len(samples) for _, samples in todo)
    with (
        JsonlAppender(output) as out,
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=total, desc=desc, unit="sample", disable=verbose) as bar,
    ):
        pending = iter(todo)
        running = {}

        def submit_next() -> None:
            item = next(pending, None)
            if item is not None:
                running[pool.submit(work, *item)] = item

        for _ in range(concurrency):
            submit_next()
        try:
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future)
                    try:
                        keep(future.result(), out, done, bar, verbose)
                    except ServerError as e:
                        error = error or e
                        continue
                    if error is None:
                        submit_next()
        except KeyboardInterrupt:
            for future in running:
                future.cancel()
            if stop is not None:
                stop()
            raise
    return error


def keep(records: list[dict], out: JsonlAppender, done: dict, bar: tqdm, verbose: bool) -> None:
    """One item's finished records: appended to the output, counted, shown."""
    for record in records:
        out.write(record)
        done[(record["task_id"], record["sample"])] = record
        if verbose:
            print(f"Task ID: {record['task_id']}\n{record['completion']}", flush=True)
    tokens = sum(r.get("completion_tokens", 0) for r in done.values())
    bar.set_postfix(tokens=tokens, refresh=False)
    bar.update(len(records))


def run_stats(ordered: list[dict], generated_now: int, clock: Clock) -> dict:
    elapsed = clock.elapsed()
    return {
        "samples": len(ordered),
        "generated_now": generated_now,
        "wall_seconds": round(elapsed, 1),
        "wall_seconds_total": round(clock.earlier + elapsed, 1),  # over every resumed run
        "prompt_tokens": sum(r.get("prompt_tokens", 0) for r in ordered),
        "completion_tokens": sum(r.get("completion_tokens", 0) for r in ordered),
        "truncated": sum(r.get("finish_reason") == "length" for r in ordered),
    }


def pending_samples(
    output: Path, problems: dict, samples: int, together: bool
) -> tuple[dict, list]:
    """What an earlier run left (samples that failed on a live server are taken out, to be asked
    again), and the (task, samples) groups still to generate: one group per task when they go out in
    one request."""
    done = read_finished(output, problems, samples)
    retry = [k for k, r in done.items() if r.get("retryable")]
    if retry:
        for k in retry:
            del done[k]
        write_jsonl_atomic(output, sorted(done.values(), key=lambda r: (r["task_id"], r["sample"])))
        print(f"{output}: {len(retry)} samples that failed on the server last time are asked again")
    missing = {t: tuple(s for s in range(samples) if (t, s) not in done) for t in problems}
    todo = [
        (t, group)
        for t, left in missing.items()
        if left
        for group in ([left] if together else [(s,) for s in left])
    ]
    if done:
        print(f"{output}: {len(done)} samples already there, {len(todo)} to go")
    return done, todo
