"""Crash between the feature file and its event: a real process is SIGKILLed after the .npz rename and
before the capture.features append (the kill is injected at that point: `SessionLog.decide_and_append`
kills its own process). Afterwards `a3cp verify` reports the orphan file, nothing else changed, and the
same capture retried over HTTP (same record_id, same frames) is recorded once, keeping the file.

ROUNDS kills of small real-Holistic captures (3 frames of 160x160 over 2 s): a few seconds in all.
"""

from __future__ import annotations

import hashlib
import os
import signal
from typing import Any

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.schemas import CaptureMeta
from a3cp.services.session_log import SessionLog
from a3cp.storage_layout import session_features_dir
from bench.client import CAPTURE_PATH, multipart
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.capture_race import FRAMES, SIZE, assert_store_consistent, round_meta
from tests.fixtures.cli import run_cli
from tests.fixtures.races import FORK
from tests.fixtures.recorded import feature_events
from tests.fixtures.sessions import start_session_in
from web.app import create_app

ROUNDS = 3


def die_before_the_event(settings: Settings, meta: dict[str, Any], frames: tuple[bytes, ...]) -> None:
    """In a forked child: track the capture, then finish it; the process dies at the event append."""

    def killed(*_args: Any, **_kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    SessionLog.decide_and_append = killed  # only in this child process
    handle = Services.build(settings).captures.open(CaptureMeta.model_validate(meta))
    for frame in frames:
        handle.add_frame(frame)
    handle.finish()


def test_sigkill_between_feature_file_and_event_then_retry(
    settings: Settings, reliability_report: Any
) -> None:
    session_id = start_session_in(settings)
    frames = person_frames(FRAMES, SIZE, SIZE)
    features = session_features_dir(settings, "elias01", session_id, create=True)
    for _ in range(ROUNDS):
        meta = round_meta(session_id)
        child = FORK.Process(target=die_before_the_event, args=(settings, meta, frames))
        child.start()
        child.join(timeout=120)
        assert child.exitcode == -signal.SIGKILL

        left_over = features / f"{meta['record_id']}.npz"
        assert left_over.exists(), sorted(features.iterdir())
        assert all(e["record_id"] != meta["record_id"] for e in feature_events(settings))
        verified = run_cli(settings, "verify")
        assert verified.returncode == 1 and "orphan feature file" in verified.stdout, verified.stdout
        kept = left_over.read_bytes()

        with signed_in_client(create_app(settings)) as client:
            retried = client.post(CAPTURE_PATH, files=multipart(meta, frames))
        assert retried.status_code == 201, retried.text
        assert retried.json()["raw_features_ref"]["hash"] == "sha256:" + hashlib.sha256(kept).hexdigest()
        assert left_over.read_bytes() == kept
        assert [e["record_id"] for e in feature_events(settings)].count(meta["record_id"]) == 1
    assert_store_consistent(settings, session_id, ROUNDS)
    reliability_report.add(
        "SIGKILL of a capture process between the .npz rename and the capture.features append "
        "(real process, real Holistic), then the same capture retried over HTTP",
        ROUNDS,
        "each kill left the file and no event, and `a3cp verify` exited 1 naming the orphan; "
        "each retry (same record_id and frames) answered 201 with the "
        "file's own hash, kept the file byte-identical and appended exactly one event; `a3cp verify` "
        "passes at the end",
    )
