"""One record_id is recorded at most once anywhere, and a crash leaves nothing hidden behind.

- Processes finish captures with the same record_id into different sessions (same user, two users) at
  once: one is recorded, every other gets 409 on record_id having written nothing, and the read model
  shows the record to its owner.
- A capture process is SIGKILLed with its temp feature file written (the temp-file moment) or just after
  the final name was linked (the final-rename moment, temp not yet removed); then the app restarts: no
  temp file survives the start, `a3cp verify` had reported what it found, and retries of the record_ids
  over HTTP and over WebSocket (other frames, so other bytes: the orphan is replaced) record each once.
"""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

import pytest

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.schemas import CaptureMeta
from a3cp.storage_layout import session_features_dir
from bench.client import CAPTURE_PATH, multipart
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.races import FORK, race_in_processes
from tests.fixtures.recorded import feature_events
from tests.fixtures.sessions import start_session_in
from tests.fixtures.ws_capture import Capture
from tests.limits.ws_client import ws_capture
from tests.reliability.test_capture_races import FRAMES, SIZE, a3cp_verify, capture_once, round_meta
from web.app import create_app

ROUNDS = 3


def _meta(session_id: str, record_id: str, user_id: str = "elias01") -> dict[str, Any]:
    meta = round_meta(session_id)
    meta.update(record_id=record_id, user_id=user_id)
    return meta


def test_same_record_id_into_other_sessions_from_processes_records_once(
    settings: Settings, reliability_report: Any
) -> None:
    sessions = [("elias01", start_session_in(settings)), ("elias01", start_session_in(settings))]
    sessions.append(("maria02", start_session_in(settings, "maria02")))
    frames = person_frames(FRAMES, SIZE, SIZE)
    client = signed_in_client(create_app(settings))
    for _ in range(ROUNDS):
        record_id = str(uuid.uuid4())
        jobs = [{"meta": _meta(session, record_id, user), "frames": frames} for user, session in sessions]
        results = race_in_processes(capture_once, settings, jobs, timeout=120)
        assert sorted(results) == ["409 record_id_conflict record_id"] * 2 + ["created"], results
        recorded = [e for e in feature_events(settings) if e["record_id"] == record_id]
        assert len(recorded) == 1, recorded
        owner = recorded[0]["user_id"]
        shown = client.get(f"/records/{record_id}", headers={"X-A3CP-User-Id": owner})
        assert shown.status_code == 200, shown.text
        for user, session in sessions:
            written = [p.name for p in session_features_dir(settings, user, session).glob(f"*{record_id}*")]
            assert written == ([f"{record_id}.npz"] if session == recorded[0]["session_id"] else [])
    assert a3cp_verify(settings).returncode == 0
    reliability_report.add(
        "3 processes record the same record_id into 3 sessions (two of one user, one of another) at once",
        ROUNDS,
        "each round: one event and one .npz; two 409 record_id_conflict with nothing written; "
        "GET /records/{id} shows it to its owner; `a3cp verify` passes",
    )


def _die_at(moment: str, settings: Settings, meta: dict[str, Any], frames: tuple[bytes, ...]) -> None:
    """In a forked child: record the capture, dying when its feature file reaches `moment`."""
    real_link = os.link

    def link(source: Any, target: Any, **kwargs: Any) -> None:
        if not str(target).endswith(".npz"):
            return real_link(source, target, **kwargs)  # the record_id's reservation marker
        if moment == "rename":
            real_link(source, target, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    os.link = link  # only in this child process
    handle = Services.build(settings).captures.open(CaptureMeta.model_validate(meta))
    for frame in frames:
        handle.add_frame(frame)
    handle.finish()


@pytest.mark.parametrize("moment", ["temp", "rename"])
def test_sigkill_then_restart_leaves_no_stray_and_retries_record_once(
    settings: Settings, moment: str, reliability_report: Any
) -> None:
    session_id = start_session_in(settings)
    frames = person_frames(FRAMES, SIZE, SIZE)
    record_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    for record_id in record_ids:
        child = FORK.Process(target=_die_at, args=(moment, settings, _meta(session_id, record_id), frames))
        child.start()
        child.join(timeout=120)
        assert child.exitcode == -signal.SIGKILL
    features = session_features_dir(settings, "elias01", session_id)
    assert len(list(features.glob(".*.tmp"))) == 2
    verified = a3cp_verify(settings)
    assert verified.returncode == 1 and "stray 2" in verified.stdout, verified.stdout
    if moment == "rename":
        assert "orphaned 2" in verified.stdout, verified.stdout

    with signed_in_client(create_app(settings)) as client:  # the restart
        assert list(features.glob(".*.tmp")) == []
        http = client.post(CAPTURE_PATH, files=multipart(_meta(session_id, record_ids[0]), frames))
        assert http.status_code == 201, http.text
        capture = Capture(session_id, user_id="elias01", record_id=record_ids[1])
        ws = ws_capture(client, capture, person_frames(10, 320, 240))
        assert ws["event"] == "capture.result", ws
    for record_id in record_ids:
        assert [e["record_id"] for e in feature_events(settings)].count(record_id) == 1
    assert sorted(p.name for p in features.iterdir()) == sorted(f"{r}.npz" for r in record_ids)
    assert a3cp_verify(settings).returncode == 0
    reliability_report.add(
        f"SIGKILL of a capture process at the {moment} moment of its feature file, then a restart and "
        "retries of the record_ids over HTTP and WebSocket",
        len(record_ids),
        "`a3cp verify` reported each stray temp file"
        + (" and orphan" if moment == "rename" else "")
        + "; the restart removed every stray; each retry answered success and recorded exactly one event; "
        "`a3cp verify` passes",
    )
