"""Durable append: events/s via `eventstore.append_event` (fsync) vs SQLite WAL synchronous=FULL."""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from eventstore import append_event


def _event(i: int) -> dict:
    return {"event": "bench", "record_id": str(uuid.uuid4()), "user_id": "u1", "session_id": "s1", "seq": i}


def bench_recorder(root: Path, n: int) -> float:
    path = root / "log.bench"
    start = time.perf_counter()
    for i in range(n):
        append_event(path, _event(i))
    return n / (time.perf_counter() - start)


def bench_sqlite(root: Path, n: int) -> float:
    conn = sqlite3.connect(root / "anchor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("INSERT INTO events (body) VALUES (?)", (json.dumps(_event(i)),))
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    args = parser.parse_args()
    n = 50 if args.quick else 2000
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp)
        rec = bench_recorder(root, n)
        anchor = bench_sqlite(root, n)
    print(f"recorder append (fsync): {rec:,.0f} events/s")
    print(f"sqlite WAL synchronous=FULL: {anchor:,.0f} events/s")
    print(f"ratio recorder/sqlite: {rec / anchor:.2f} (goal >= 1)")


if __name__ == "__main__":
    main()
