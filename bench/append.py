"""Durable append: events/s through `eventstore.append_event` (flock + fdatasync) vs SQLite WAL inserts with
synchronous=FULL of the same JSON, on the same disk in the same run; one writer, then 4 writer processes
on one session log / one database."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import feature_of
from eventstore import append_event

WRITERS = 4


def _event(user_id: str) -> dict:
    return feature_of(user_id, "bench-session")


def recorder_writer(root: Path, n: int, writer: int) -> None:
    path = root / "session.log"
    for _ in range(n):
        append_event(path, _event(f"writer-{writer}"))


def _sqlite(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "anchor.db", isolation_level=None, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return conn


def sqlite_writer(root: Path, n: int, writer: int) -> None:
    conn = _sqlite(root)
    for _ in range(n):
        conn.execute("INSERT INTO events (body) VALUES (?)", (json.dumps(_event(f"writer-{writer}")),))
    conn.close()


def rate(writer: Callable[[Path, int, int], None], root: Path, n: int, processes: int) -> float:
    """Events/s of `processes` writer processes each appending `n` events (started together)."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=writer, args=(root, n, index)) for index in range(processes)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, worker.exitcode
    return n * processes / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    args = parser.parse_args(argv)
    n = 50 if args.quick else 2000
    for processes in (1, WRITERS):
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            recorder = rate(recorder_writer, Path(tmp), n, processes)
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            _sqlite(Path(tmp)).close()  # the schema exists before the writers race to create it
            anchor = rate(sqlite_writer, Path(tmp), n, processes)
        label = f"{processes} writer process{'es' if processes > 1 else ''}, {n * processes:,} events"
        print(f"[{label}] recorder append (fsync): {recorder:,.0f} events/s")
        print(f"[{label}] sqlite WAL synchronous=FULL: {anchor:,.0f} events/s")
        print(f"[{label}] ratio recorder/sqlite: {recorder / anchor:.2f} (goal >= 1)")


if __name__ == "__main__":
    main()
