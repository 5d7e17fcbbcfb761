"""Rebuild: events/s of the projection rebuild over generated logs vs a bare `json.loads` loop,
and the cost of incremental catch-up after one new event in a short and in a long log.

The corpus is made of real event shapes (the domain's own start, capture.features and end builders):
each session log is one start, captures, one end. It is written through the recorder's batch append.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from a3cp.config import Settings
from a3cp.storage_layout import session_log_path
from bench.corpus import end_of, feature_of, start_of
from eventstore import append_event, append_events
from projections.store import Projection


def session_events(user_id: str, count: int) -> tuple[str, list[dict[str, Any]]]:
    """A session's log: a start, `count - 2` capture.features events, an end."""
    start = start_of(user_id)
    session_id = start["session_id"]
    events = [start]
    events += [feature_of(user_id, session_id) for _ in range(count - 2)]
    events.append(end_of(user_id, session_id))
    return session_id, events


def generate(settings: Settings, logs: int, per_log: int, users: int = 100) -> list[Path]:
    """`logs` session logs of `per_log` events each, spread over `users` users."""
    paths = []
    for index in range(logs):
        user_id = f"user-{index % users:03d}"
        session_id, events = session_events(user_id, per_log)
        path = session_log_path(settings, user_id, session_id, create_dir=True)
        append_events(path, events)
        paths.append(path)
    return paths


def bare_parse(paths: list[Path]) -> int:
    """The anchor: read every file and json.loads every line."""
    count = 0
    for path in paths:
        for line in path.read_bytes().splitlines():
            json.loads(line)
            count += 1
    return count


def catch_up_seconds(projection: Projection, path: Path, user_id: str, repeats: int) -> float:
    """Median time to apply one new event appended to `path` (an extra end: a no-op for the fold)."""
    session_id = path.stem
    times = []
    for _ in range(repeats):
        append_event(path, end_of(user_id, session_id))
        began = time.perf_counter()
        applied = projection.catch_up_log(path.relative_to(projection.settings.log_root).as_posix())
        times.append(time.perf_counter() - began)
        assert applied.events == 1, applied
    return statistics.median(times)


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the rebuild's workers, once it returns)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(logs: int, per_log: int, long_log: int, jobs: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp).resolve()
        settings = Settings(data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root}/p.db")
        began = time.perf_counter()
        paths = generate(settings, logs, per_log)
        generated = time.perf_counter() - began
        total = logs * per_log

        began = time.perf_counter()
        assert bare_parse(paths) == total
        bare = total / (time.perf_counter() - began)

        projection = Projection(settings)
        cpu, children = time.process_time(), _children_cpu()
        summary = projection.rebuild(jobs=jobs)
        writer_cpu, workers_cpu = time.process_time() - cpu, _children_cpu() - children
        assert summary.totals.events == total, summary
        rebuild = total / summary.seconds

        short_path = paths[0]
        long_path = generate(settings, 1, long_log)[0]
        projection.catch_up()
        short = catch_up_seconds(projection, short_path, short_path.parent.parent.name, 20)
        long = catch_up_seconds(projection, long_path, long_path.parent.parent.name, 20)
    return {
        "events": total,
        "logs": logs,
        "generate_s": generated,
        "bare": bare,
        "rebuild": rebuild,
        "rebuild_s": summary.seconds,
        "writer_cpu_s": writer_cpu,
        "workers_cpu_s": workers_cpu,
        "long_log": long_log,
        "catch_up_short_ms": short * 1000,
        "catch_up_long_ms": long * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    parser.add_argument("--jobs", type=int, help="as `a3cp rebuild --jobs` (default: one per CPU)")
    args = parser.parse_args(argv)
    logs, per_log, long_log = (50, 20, 2_000) if args.quick else (10_000, 100, 100_000)
    r = run(logs, per_log, long_log, args.jobs)
    print(f"corpus: {r['events']:,} events in {r['logs']:,} logs (generated in {r['generate_s']:.1f} s)")
    print(f"bare json.loads loop: {r['bare']:,.0f} events/s")
    jobs = "one per CPU" if args.jobs is None else args.jobs
    print(f"a3cp rebuild (Projection.rebuild, jobs: {jobs}): {r['rebuild']:,.0f} events/s")
    print(f"ratio rebuild/bare: {r['rebuild'] / r['bare']:.2f} (goal >= 1.0, issue 23)")
    print(
        f"rebuild {r['rebuild_s']:.1f} s wall; CPU: writing process {r['writer_cpu_s']:.1f} s, "
        f"its workers {r['workers_cpu_s']:.1f} s together"
    )
    print(
        f"catch-up after 1 new event: {r['catch_up_short_ms']:.2f} ms in a {per_log}-event log, "
        f"{r['catch_up_long_ms']:.2f} ms in a {r['long_log']:,}-event log (O(1): about equal)"
    )


if __name__ == "__main__":
    main()
