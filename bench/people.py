"""People: the cost of sessions.start + sessions.end, a capture's open, a session read, a record lookup
and a page of 20 sessions as the number of users and of sessions per user grows, against a real
`a3cp serve` (fdatasync on, SQLite projection, its background safety net running).

Two growing corpora: 10 → 10,000 users with 10 sessions each, and 10 users with 10 → 10,000 sessions
each (100 → 100,000 logs). Each point adds the new ended sessions through the recorder's batch append
(bench.corpus shapes), runs `a3cp rebuild`, starts the server, and times two users' requests over
HTTP keep-alive (median and p90 of REPEATS each, the figures taken in turns). A capture's open is a
WebSocket `capture.open` (the session, record_id and consent checks, a capacity slot) followed by an
empty `capture.close`, which the server refuses (`no_frames`) without loading MediaPipe. Flat means
the largest point costs about what the smallest does: each figure is printed as a ratio to the
smallest point with the goal (≤ 1.5×).

The corpus lives under /dev/shm when there is one (the recorder's fdatasync there costs nothing, so
100,000 logs are written in seconds; on this machine's disk they take 10 ms each), and so do the
server's own appends: the constant cost of a durable write is left out, the growing costs are not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from a3cp.config import Settings
from a3cp.schemas import format_timestamp, utc_now
from a3cp.storage_layout import StorageLayout
from bench.client import PERFORMER, end_session, request_body, start_session
from bench.corpus import end_of, start_of
from bench.processes import ServerProcess, free_port, provision, run_cli
from eventstore import append_events

REPEATS = 60
QUICK_REPEATS = 10
WARM_UP = 5
CALLER = "user-00005"  # the user whose sessions are started, ended, read and listed: at every point
CAPTURER = "user-00006"  # the user whose session the captures are opened in
GOAL = 1.5
FIGURES = ("start+end", "capture open", "session read", "record lookup", "page of 20")
WS_PATH = "/camera_feed_worker/capture"


@dataclass
class Corpus:
    """One growing LOG_ROOT of ended sessions, `per_user[u]` sessions for user u."""

    root: Path
    env: dict[str, str]
    users: int = 0
    per_user: int = 0
    headers: dict[str, str] | None = None

    def grow(self, users: int, per_user: int) -> float:
        """Add users and sessions until there are `users` users with `per_user` ended sessions each;
        the seconds it took."""
        data = self.root / "data"
        layout = StorageLayout(Settings(data_root=data, log_root=self.root / "logs", db_url="sqlite://"))
        began = time.perf_counter()
        for index in range(users):
            user_id = f"user-{index:05d}"
            have = self.per_user if index < self.users else 0
            for _ in range(per_user - have):
                start = start_of(user_id)
                path = layout.log_path(user_id, start["session_id"], create_dir=True)
                append_events(path, [start, end_of(user_id, start["session_id"])])
        self.users, self.per_user = users, per_user
        return time.perf_counter() - began

    @contextmanager
    def served(self) -> Iterator[tuple[str, dict[str, str]]]:
        """`a3cp rebuild`, then `a3cp serve` on the corpus: its URL and the carer's headers."""
        if self.headers is None:
            self.headers = provision(self.env, PERFORMER, (CALLER, CAPTURER))
        run_cli(self.env, "rebuild", "--quiet")
        process = ServerProcess("all", free_port(), self.env, self.root / "server.log").start()
        try:
            yield process.url, self.headers
        finally:
            process.stop()


def corpus_env(root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("A3CP_")}
    # Its requests record no consent (docs/privacy.md): consent is not what this benchmark measures.
    env.update(DATA_ROOT=str(root / "data"), LOG_ROOT=str(root / "logs"), A3CP_CONSENT_REQUIRED="0")
    return env


def timed(figures: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median and p90 in ms of `repeats` runs of each of `figures` (after WARM_UP untimed ones), taken
    in turns, so that a burst of load on this shared machine slows every figure of a point alike."""
    times: dict[str, list[float]] = {name: [] for name in figures}
    for turn in range(WARM_UP + repeats):
        for name, work in figures.items():
            began = time.perf_counter()
            work()
            if turn >= WARM_UP:
                times[name].append((time.perf_counter() - began) * 1000)
    result = {}
    for name, taken in times.items():
        taken.sort()
        result[name] = (statistics.median(taken), taken[int(0.9 * (len(taken) - 1))])
    return result


def capture_messages(session_id: str) -> tuple[str, str]:
    """A capture.open of CAPTURER's session and an empty capture.close (refused: no frames)."""
    capture_id = str(uuid.uuid4())
    now = utc_now()
    end = format_timestamp(datetime.now(UTC) + timedelta(seconds=3))  # a capture lasts at least 2 s
    envelope: dict[str, Any] = {"session_id": session_id, "modality": "image", "source": "browser"}
    envelope["capture_id"] = capture_id
    opened = request_body(CAPTURER, timestamp=now, **envelope, event="capture.open", timestamp_start=now)
    opened |= {"fps_target": 5, "width": 320, "height": 240, "encoding": "jpeg"}
    closed = request_body(CAPTURER, timestamp=now, **envelope, event="capture.close", timestamp_end=end)
    return json.dumps(opened), json.dumps(closed)


def open_capture(ws_url: str, headers: dict[str, str], session_id: str) -> None:
    """Connect, open a capture, close it empty: the server's answer is capture.abort `no_frames`."""
    opened, closed = capture_messages(session_id)
    with connect(ws_url, additional_headers=headers) as ws:
        ws.send(opened)
        ws.send(closed)
        answer = json.loads(ws.recv(timeout=30))
    assert answer.get("event") == "capture.abort" and answer.get("error_code") == "no_frames", answer


def measure(url: str, headers: dict[str, str], repeats: int) -> dict[str, tuple[float, float]]:
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:

        def start_end() -> None:
            session_id = start_session(http, CALLER, timestamp=utc_now())
            end_session(http, session_id, CALLER, timestamp=utc_now())

        def get(path: str) -> dict[str, Any]:
            answer = http.get(path)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        listed = f"/session_manager/users/{CALLER}/sessions"
        oldest = get(f"{listed}?limit=1")["sessions"][0]
        capturing = start_session(http, CAPTURER, timestamp=utc_now())  # one person, one active session
        ws_url = url.replace("http://", "ws://") + WS_PATH
        figures = timed(
            {
                "start+end": start_end,
                "capture open": lambda: open_capture(ws_url, headers, capturing),
                "session read": lambda: get(f"/session_manager/sessions/{oldest['session_id']}"),
                "record lookup": lambda: get(f"/records/{oldest['start_record_id']}"),
                "page of 20": lambda: get(f"{listed}?limit=20"),
            },
            repeats,
        )
        end_session(http, capturing, CAPTURER, timestamp=utc_now())
    return figures


def axis(
    root: Path, points: list[tuple[int, int]], repeats: int
) -> dict[tuple[int, int], dict[str, tuple[float, float]]]:
    corpus = Corpus(root, corpus_env(root))
    results = {}
    for users, per_user in points:
        generated = corpus.grow(users, per_user)
        began = time.perf_counter()
        with corpus.served() as (url, headers):
            served = time.perf_counter() - began
            results[users, per_user] = measure(url, headers, repeats)
        print(
            f"  {users:>6,} users x {per_user:>6,} sessions: logs written in {generated:.1f} s, "
            f"rebuilt and served in {served:.1f} s",
            flush=True,
        )
    return results


def report(results: dict[tuple[int, int], dict[str, tuple[float, float]]]) -> float:
    """Print the table and the ratios to the smallest point; the worst median ratio."""
    base = results[min(results, key=lambda p: p[0] * p[1])]
    print("  users x sessions each | " + " | ".join(f"{f} ms p50 (p90) ratio" for f in FIGURES))
    worst = 0.0
    for (users, per_user), figures in results.items():
        cells = []
        for figure in FIGURES:
            p50, p90 = figures[figure]
            ratio = p50 / base[figure][0]
            worst = max(worst, ratio)
            cells.append(f"{p50:6.2f} ({p90:6.2f}) {ratio:4.2f}x")
        print(f"  {users:>6,} x {per_user:<6,} | " + " | ".join(cells))
    return worst


def scratch_dir() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else "."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    args = parser.parse_args(argv)
    if args.quick:  # the smoke test: every figure taken, at two points
        axes, repeats = {"users": [(10, 2)], "sessions per user": [(10, 4)]}, QUICK_REPEATS
    else:
        repeats = REPEATS
        steps = (10, 100, 1_000, 10_000)
        axes = {"users": [(n, 10) for n in steps], "sessions per user": [(10, n) for n in steps]}
    began = time.perf_counter()
    results = {}
    for name, points in axes.items():
        print(f"growing the number of {name}:", flush=True)
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as tmp:
            results.update(axis(Path(tmp).resolve(), points, repeats))
    worst = report(results)
    print(
        f"worst median, any point / smallest point: {worst:.2f}x (goal <= {GOAL}x: flat in the number "
        f"of people; {time.perf_counter() - began:.0f} s)"
    )


if __name__ == "__main__":
    main()
