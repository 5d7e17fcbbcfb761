"""Racing captures with the same record_id: exactly one feature file and one event, from processes.

Each round, RACERS forked processes (each with its own service stack, as separate workers would
have) open the same small capture (same record_id, same session), track its frames with the real
Holistic tracker, then meet at a barrier and all finish at once, so the feature-file write and the
event append race. Exactly one must be recorded; every other racer gets a clear 409 on record_id;
there is one `<record_id>.npz`, no temp file left, one `capture.features` event, and `a3cp verify`
passes afterwards. Captures are 3 frames of 160x160 over 2 s to keep Holistic cheap.

Before `recording_lock`, a racer that created the file but lost the append deleted the winner's file
in about one round of three or four; ROUNDS makes a regression all but certain to show. The HTTP
variant (threads posting to one app) checks the answers clients see (201, then 409 naming record_id);
its race is looser: without the lock it did not lose a file in 4 runs, so the process test is the
one that guards the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.domain.errors import DomainError
from a3cp.schemas import CaptureMeta
from a3cp.storage_layout import session_features_dir
from bench.client import CAPTURE_PATH, capture_meta, multipart
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.races import race_in_processes
from tests.fixtures.recorded import feature_events
from tests.fixtures.sessions import start_session_in
from web.app import create_app
from web.error_table import http_status

RACERS = 4
HTTP_ROUNDS = 8
ROUNDS = 12  # without the recording lock, 7 of 25 and 5 of 12 rounds lost the winner's file
FRAMES = 3  # a 2 s capture (the shortest allowed) at 5 fps may hold fewer frames than 11
SIZE = 160


def capture_once(settings: Settings, job: dict[str, Any], barrier: Any) -> str:
    """One racer: open and track the capture, then finish it at the barrier; "created" or the error."""
    captures = Services.build(settings).captures
    try:
        handle = captures.open(CaptureMeta.model_validate(job["meta"]))
        for frame in job["frames"]:
            handle.add_frame(frame)
    finally:
        barrier.wait()
    try:
        handle.finish()
    except DomainError as exc:
        return f"{http_status(exc.code)} {exc.code} {exc.field}"
    return "created"


def round_meta(session_id: str) -> dict[str, Any]:
    return capture_meta(
        session_id,
        frames=FRAMES,
        record_id=str(uuid.uuid4()),
        fps=5,
        width=SIZE,
        height=SIZE,
        timestamp_end="2026-11-24T10:00:03.000Z",
    )


def a3cp_verify(settings: Settings, *options: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_ROOT": str(settings.data_root),
        "LOG_ROOT": str(settings.log_root),
        "A3CP_DB_URL": settings.db_url,
    }
    command = [str(Path(sys.executable).with_name("a3cp")), "verify", *options]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def assert_recorded_once(settings: Settings, session_id: str, record_id: str) -> None:
    """One event and one feature file (no temp file beside it) for `record_id`."""
    events = [e for e in feature_events(settings) if e["record_id"] == record_id]
    assert len(events) == 1, events
    features = session_features_dir(settings, "elias01", session_id)
    assert sorted(p.name for p in features.iterdir() if record_id in p.name) == [f"{record_id}.npz"]


def assert_store_consistent(settings: Settings, session_id: str, captures: int) -> None:
    """`captures` events and as many .npz files, nothing else; `a3cp verify` passes."""
    assert len(feature_events(settings)) == captures
    features = session_features_dir(settings, "elias01", session_id)
    assert sorted(p.suffix for p in features.iterdir()) == [".npz"] * captures  # no temp file left
    verified = a3cp_verify(settings)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_racing_same_capture_records_once(settings: Settings, reliability_report: Any) -> None:
    session_id = start_session_in(settings)
    frames = person_frames(FRAMES, SIZE, SIZE)
    outcomes: list[str] = []
    for _ in range(ROUNDS):
        meta = round_meta(session_id)
        job = {"meta": meta, "frames": frames}
        results = race_in_processes(capture_once, settings, [job] * RACERS, timeout=120)
        assert sorted(results) == ["409 record_id_conflict record_id"] * (RACERS - 1) + ["created"], results
        outcomes += results
        assert_recorded_once(settings, session_id, meta["record_id"])
    assert_store_consistent(settings, session_id, ROUNDS)
    reliability_report.add(
        f"{RACERS} processes finish the same capture (same record_id, same session) at once, "
        f"{ROUNDS} rounds, real Holistic",
        len(outcomes),
        f"each round: one 201, {RACERS - 1}× 409 on record_id; one .npz and one capture.features event "
        "per record_id, no temp file; `a3cp verify` passes",
    )


def post_at(client: TestClient, barrier: threading.Barrier, meta: dict[str, Any], frames: Any) -> Any:
    barrier.wait()
    return client.post(CAPTURE_PATH, files=multipart(meta, frames))


def test_racing_same_capture_over_http_records_once(settings: Settings, reliability_report: Any) -> None:
    """The same race through one serving app: RACERS threads POST the same multipart capture at once
    (the app admits RACERS captures at once, so that none is refused for capacity)."""
    client = signed_in_client(create_app(replace(settings, max_captures=RACERS)))
    session_id = start_session_in(settings)
    frames = person_frames(FRAMES, SIZE, SIZE)
    answers: list[int] = []
    for _ in range(HTTP_ROUNDS):
        meta = round_meta(session_id)
        barrier = threading.Barrier(RACERS)
        with ThreadPoolExecutor(RACERS) as pool:
            racers = [pool.submit(post_at, client, barrier, meta, frames) for _ in range(RACERS)]
            responses = [racer.result() for racer in racers]
        assert sorted(r.status_code for r in responses) == [201] + [409] * (RACERS - 1), [
            r.text for r in responses
        ]
        for response in responses:
            if response.status_code == 409:
                assert response.json()["fields"][0]["field"] == "record_id", response.text
        answers += [r.status_code for r in responses]
        assert_recorded_once(settings, session_id, meta["record_id"])
    assert_store_consistent(settings, session_id, HTTP_ROUNDS)
    reliability_report.add(
        f"{RACERS} concurrent HTTP uploads of the same capture (same record_id) to one app, "
        f"{HTTP_ROUNDS} rounds, real Holistic",
        len(answers),
        f"each round: one 201, {RACERS - 1}× 409 naming record_id; one .npz and one event per record_id; "
        "`a3cp verify` passes",
    )
