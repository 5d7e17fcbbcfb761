"""Same frames -> byte-identical feature file across requests and a server restart; the exit gate
(`verify`, `a3cp verify`, `a3cp replay`) catches a tampered, a missing and an orphan file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from a3cp.config import Settings
from a3cp.services.verify import verify
from a3cp.storage_layout import ACCESS_STREAM, AUDIT_DIR, session_features_dir
from bench.client import CAPTURE_FRAMES, CAPTURE_PATH, capture_meta, multipart, start_session
from bench.person import person_frames
from tests.fixtures.accounts import CREDENTIALS_FILE, signed_in_client
from tests.fixtures.recorded import feature_events, feature_files
from web.app import create_app

REPO = Path(__file__).resolve().parents[2]

_RESTARTED_CAPTURE = """
import json, sys
from a3cp.config import Settings
from web.app import create_app
from bench.client import capture_meta, multipart, start_session
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
with signed_in_client(create_app(Settings.from_env())) as client:
    session_id = start_session(client)
    parts = multipart(capture_meta(session_id), person_frames(30))
    response = client.post("/camera_feed_worker/captures", files=parts)
    print(json.dumps(response.json()))
"""


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        DATA_ROOT=str(settings.data_root),
        LOG_ROOT=str(settings.log_root),
        A3CP_DB_URL=settings.db_url,
    )
    return subprocess.run(
        [sys.executable, "-m", "a3cp.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    """One capture of the test person, made once for the module (MediaPipe runs once, not per test)."""
    root = tmp_path_factory.mktemp("recorded")
    settings = Settings(
        data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root / 'projection.sqlite3'}"
    )
    app = create_app(settings)
    with signed_in_client(app) as client:
        meta = capture_meta(start_session(client))
        response = client.post(CAPTURE_PATH, files=multipart(meta, person_frames(CAPTURE_FRAMES)))
    app.state.services.projection.engine.dispose()
    assert response.status_code == 201, response.text
    return settings, response.json()


@pytest.fixture
def recorded(settings: Settings, recording: tuple[Settings, dict]) -> dict:
    """The module's capture, its log and feature file copied into this test's roots (a test may break
    its copy); the 201 body it was recorded with."""
    source, body = recording
    # Not the account layer: this test's own accounts (the client fixture's login) stay as they are.
    skip = shutil.ignore_patterns(ACCESS_STREAM, AUDIT_DIR, CREDENTIALS_FILE + "*")
    shutil.copytree(source.data_root, settings.data_root, dirs_exist_ok=True, ignore=skip)
    shutil.copytree(source.log_root, settings.log_root, dirs_exist_ok=True, ignore=skip)
    return body


def test_same_frames_give_identical_bytes_across_requests_and_a_restart(
    settings, client, frames, post_capture, recorded, tmp_path
):
    # another person's session: elias01's is still active, and a person has one active session at a time
    again = post_capture(capture_meta(start_session(client, "elias02"), user_id="elias02"), frames).json()
    assert again["raw_features_ref"]["hash"] == recorded["raw_features_ref"]["hash"]
    first, second = (settings.data_root / r["raw_features_ref"]["uri"] for r in (recorded, again))
    assert first.read_bytes() == second.read_bytes()

    env = dict(
        os.environ,
        DATA_ROOT=str(tmp_path / "d2"),
        LOG_ROOT=str(tmp_path / "l2"),
        A3CP_DB_URL=f"sqlite:///{tmp_path}/p2.db",
    )
    env["PYTHONPATH"] = str(REPO)
    restarted = subprocess.run(
        [sys.executable, "-c", _RESTARTED_CAPTURE],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    body = json.loads(restarted.stdout.strip().splitlines()[-1])
    assert body["raw_features_ref"]["hash"] == recorded["raw_features_ref"]["hash"]


def test_verify_passes_and_replay_prints_the_capture(settings, recorded):
    assert verify(settings).ok
    result = _cli(settings, "verify")
    assert result.returncode == 0 and "verified 1 feature events: OK" in result.stdout
    replay = _cli(settings, "replay", recorded["record_id"])
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"hash {recorded['raw_features_ref']['hash']}" in replay.stdout
    assert "T 30" in replay.stdout and "D 1662" in replay.stdout and "verified: yes" in replay.stdout
    assert _cli(settings, "replay", "6f1c2d3e-0000-4000-8000-000000000000").returncode == 1


def test_tampered_file_fails_verification(settings, recorded):
    [path] = feature_files(settings)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    report = verify(settings)
    assert not report.ok and "sha256 mismatch" in report.failure_lines()[0]
    result = _cli(settings, "verify", "--user", "elias01")
    assert result.returncode == 1 and f"FAIL {recorded['record_id']}: sha256 mismatch" in result.stdout
    assert "verified: NO" in _cli(settings, "replay", recorded["record_id"]).stdout


def test_missing_file_fails_verification(settings, recorded):
    [path] = feature_files(settings)
    path.unlink()
    result = _cli(settings, "verify", "--session", recorded["session_id"])
    assert result.returncode == 1 and "feature file missing" in result.stdout


def test_orphan_file_is_reported(settings, recorded):
    [path] = feature_files(settings)
    orphan = path.with_name("0b3c8f7e-1111-4222-8333-444455556666.npz")
    orphan.write_bytes(path.read_bytes())
    report = verify(settings)
    assert report.orphans == [orphan] and not report.ok
    assert "orphan feature file" in _cli(settings, "verify").stdout


def test_retry_after_a_crash_between_file_and_event_completes(
    settings, client, frames, post_capture, recorded
):
    """A crash after the rename but before the append leaves a file and no event. Simulated by placing
    the identical bytes (the file depends only on frames and timestamps) under a fresh record_id: the
    retry with the same frames keeps the file and appends the one event. An orphan was never recorded
    data, so a retry with other frames replaces it and is recorded once."""
    [first] = feature_files(settings)
    session_id = recorded["session_id"]  # elias01's active session (one per person at a time)
    meta = capture_meta(session_id)
    features_dir = session_features_dir(settings, "elias01", session_id, create=True)
    left_over = features_dir / f"{meta['record_id']}.npz"
    left_over.write_bytes(first.read_bytes())
    assert verify(settings).orphans == [left_over]

    retried = post_capture(meta, frames)
    assert retried.status_code == 201, retried.text
    assert retried.json()["raw_features_ref"]["hash"] == recorded["raw_features_ref"]["hash"]
    assert [e["record_id"] for e in feature_events(settings)].count(meta["record_id"]) == 1
    assert verify(settings).ok

    other = capture_meta(session_id)
    conflicting = features_dir / f"{other['record_id']}.npz"
    conflicting.write_bytes(first.read_bytes())
    replaced = post_capture(other, frames[::-1])
    assert replaced.status_code == 201, replaced.text
    assert conflicting.read_bytes() != first.read_bytes()
    assert [e["record_id"] for e in feature_events(settings)].count(other["record_id"]) == 1
    assert verify(settings).ok
