"""People: the cost of sessions.start, sessions.end and single-item reads as the number of users and
of sessions per user grows (in process, through the composition root's services, fdatasync on).

Each point is a fresh LOG_ROOT holding `users` users with `per_user` ended sessions each (written by
the recorder's batch append and projected by one rebuild), then the median and p90 of timed
start + end pairs, a session read and a record lookup by a user in the middle. Flat means the
largest point costs about what the smallest does (goal: within 1.5x)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.schemas import SessionManagerEndInput, SessionManagerStartInput, SessionsPageQuery, utc_now
from a3cp.storage_layout import session_log_path
from bench.corpus import end_of, start_of
from eventstore import append_events

REPEATS = 60


def _populate(settings: Settings, users: int, per_user: int) -> None:
    for index in range(users):
        user_id = f"user-{index:05d}"
        for _ in range(per_user):
            start = start_of(user_id)
            path = session_log_path(settings, user_id, start["session_id"], create_dir=True)
            append_events(path, [start, end_of(user_id, start["session_id"])])


def _median_ms(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def point(users: int, per_user: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        root = Path(tmp).resolve()
        settings = Settings(data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root}/p.db")
        _populate(settings, users, per_user)
        services = Services.build(settings)
        services.projection.rebuild()
        caller = f"user-{users // 2:05d}"

        def envelope() -> dict[str, str]:
            return {"record_id": str(uuid.uuid4()), "user_id": caller, "timestamp": utc_now()}

        def start_end() -> None:
            started = services.sessions.start(SessionManagerStartInput(**envelope(), performer_id="carer-1"))
            end = SessionManagerEndInput(**envelope(), session_id=started.session_id, performer_id="carer-1")
            services.sessions.end(end)

        def visible(user_id: str) -> bool:  # the reader is granted just the caller
            return user_id == caller

        pair = _median_ms(start_end)
        some = services.reads.user_sessions(caller, visible, SessionsPageQuery(limit=1)).sessions[0]
        read = _median_ms(lambda: services.reads.session(some.session_id, visible))
        lookup = _median_ms(lambda: services.reads.find_record(some.start_record_id))
        page = _median_ms(lambda: services.reads.user_sessions(caller, visible, SessionsPageQuery(limit=20)))
        services.projection.engine.dispose()
    return {"pair_ms": pair, "read_ms": read, "lookup_ms": lookup, "page_ms": page}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = parser.parse_args(argv)
    points = [(10, 1), (200, 1), (10, 200)] if args.quick else [(10, 1), (2_000, 1), (10_000, 1), (10, 2_000)]
    results = {p: point(*p) for p in points}
    base = results[points[0]]
    print("users x sessions each: start+end pair | session read | record lookup | page of 20 (median ms)")
    for (users, per_user), r in results.items():
        print(
            f"  {users:>6,} x {per_user:<5,}: {r['pair_ms']:6.2f} | {r['read_ms']:6.2f} | "
            f"{r['lookup_ms']:6.2f} | {r['page_ms']:6.2f}"
        )
    worst = max(r["pair_ms"] / base["pair_ms"] for r in results.values())
    print(f"start+end, largest point / smallest: {worst:.2f}x (goal <= 1.5x: flat in the number of people)")


if __name__ == "__main__":
    main()
