"""JSONL files that survive interruption: line-numbered errors, repaired tails, append-and-flush writes."""
import json
import os
from pathlib import Path
from typing import Iterator

import jsonlines


class InputError(ValueError):
    """Bad input; the message names file, line and field."""


def repair_tail(path: Path) -> int:
    """Drop a half-written last line (no trailing newline) left by a crash. Returns bytes dropped."""
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
    """Yield (line number, record). Blank lines are skipped; anything else malformed raises InputError."""
    required = required or {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            for field, kind in required.items():
                if field not in record:
                    raise InputError(f"{path}:{lineno}: missing field '{field}'")
                if not isinstance(record[field], kind):
                    raise InputError(
                        f"{path}:{lineno}: field '{field}' must be {kind.__name__}, got {type(record[field]).__name__}"
                    )
            yield lineno, record


def _dumps(record) -> str:
    return json.dumps(record, ensure_ascii=False)


class JsonlAppender:
    """Appends one record per line and flushes it, so an interrupted run keeps every finished record."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(path)
        self.path = path
        self._f = open(path, "a", encoding="utf-8")
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


def write_jsonl_atomic(path: Path, records) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f, jsonlines.Writer(f, compact=True, dumps=_dumps) as writer:
        writer.write_all(records)
    os.replace(tmp, path)
