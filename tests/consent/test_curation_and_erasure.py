"""Curation (label, discard, restore), the landmarks route (bit for bit, 404 without a grant, 410 after
erasure) and erasure on withdrawal: files deleted, one capture.erased per capture, verify passes with the
erased count, the log keeps the non-biometric facts."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.services.verify import verify
from a3cp.storage_layout import user_stream_path
from bench.client import USER, start_session
from eventstore import read_log
from tests.fixtures.accounts import anonymous
from tests.fixtures.ws_capture import feature_files


def parse_landmarks(body: bytes) -> tuple[dict[str, Any], np.ndarray]:
    """The documented body: u32 LE header length, JSON header, then T×1662 float32 LE values."""
    (length,) = struct.unpack_from("<I", body)
    header = json.loads(body[4 : 4 + length])
    values = np.frombuffer(body[4 + length :], dtype="<f4").reshape(header["shape"])
    return header, values


@pytest.fixture
def captured(
    client: TestClient, post_capture: Callable[..., Any], grant: Callable[..., dict[str, Any]]
) -> tuple[str, list[str]]:
    """Two captures of USER (consent to capture and keep the face): the session and record ids."""
    grant("capture", "store_face")
    session_id = start_session(client, USER)
    record_ids = []
    for _ in range(2):
        response = post_capture(session_id)
        assert response.status_code == 201, response.text
        record_ids.append(response.json()["record_id"])
    return session_id, record_ids


def test_label_discard_restore(
    client: TestClient, carer: dict[str, str], stranger: dict[str, str], captured: tuple[str, list[str]]
) -> None:
    session_id, (record_id, other) = captured
    base = f"/records/{record_id}"
    labeled = client.post(f"{base}/label", json={"label": "drink"}, headers=carer)
    assert labeled.status_code == 200, labeled.text
    assert labeled.json()["label"] == "drink" and labeled.json()["status"] == "active"
    assert labeled.json()["event"]["performer_id"] == "carer01"
    discarded = client.post(f"{base}/discard", json={"reason": "bad take"}, headers=carer)
    assert discarded.json()["status"] == "discarded" and discarded.json()["label"] == "drink"
    session = client.get(f"/session_manager/sessions/{session_id}", headers={"X-A3CP-User-Id": USER}).json()
    shown = {c["record_id"]: (c["label"], c["status"]) for c in session["captures"]}
    assert shown == {record_id: ("drink", "discarded"), other: (None, "active")}
    restored = client.post(f"{base}/restore", json={}, headers=carer)
    assert restored.json()["status"] == "active"
    bad = client.post(f"{base}/label", json={"label": ""}, headers=carer)
    assert bad.status_code == 400 and bad.json()["fields"][0]["field"] == "label"
    assert client.post(f"{base}/discard", json={"reason": "x"}, headers=stranger).status_code == 404
    assert anonymous(client).post(f"{base}/label", json={"label": "x"}).status_code == 401
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.post(f"/records/{unknown}/label", json={"label": "x"}, headers=carer).status_code == 404


def test_landmarks_are_the_npz_bit_for_bit(
    client: TestClient,
    settings: Settings,
    carer: dict[str, str],
    stranger: dict[str, str],
    captured: tuple[str, list[str]],
) -> None:
    session_id, (record_id, _) = captured
    response = client.get(f"/records/{record_id}/landmarks", headers=carer)
    assert response.status_code == 200, response.text
    assert response.headers["content-encoding"] == "gzip"  # httpx asks for it, and decodes it
    header, values = parse_landmarks(response.content)
    [path] = [p for p in feature_files(settings, session_id, USER) if p.stem == record_id]
    with np.load(path) as npz:
        features, timestamps = npz["features"], npz["timestamps_ms"]
    assert values.shape == features.shape == (6, 1662)
    assert values.tobytes() == features.astype("<f4").tobytes()  # NaN bit patterns included
    assert np.isnan(values).any()  # no hands on the portrait: NaN travels as NaN
    assert header["timestamps_ms"] == timestamps.tolist()
    assert client.get(f"/records/{record_id}/landmarks", headers=stranger).status_code == 404


def test_withdrawal_with_erasure_deletes_the_files_and_records_it(
    client: TestClient,
    settings: Settings,
    carer: dict[str, str],
    withdraw: Callable[..., dict[str, Any]],
    captured: tuple[str, list[str]],
) -> None:
    session_id, record_ids = captured
    client.post(f"/records/{record_ids[1]}/discard", json={"reason": "wrong person"}, headers=carer)
    change = withdraw("capture", erase=True)
    assert sorted(e["capture_record_id"] for e in change["erased"]) == sorted(record_ids)
    assert feature_files(settings, session_id, USER) == []
    stream = read_log(user_stream_path(settings, USER)).events
    erased = [e for e in stream if e["event"] == "capture.erased"]
    assert len(erased) == 2
    assert all(e["consent_record_id"] == change["event"]["record_id"] and e["features_hash"] for e in erased)
    report = verify(settings)
    assert report.ok, report.failure_lines()
    assert report.statuses == {"erased": 2}
    for record_id in record_ids:
        assert client.get(f"/records/{record_id}/landmarks", headers=carer).status_code == 410
        assert client.post(f"/records/{record_id}/restore", json={}, headers=carer).status_code == 410


def test_withdrawing_store_face_erases_only_captures_with_a_face(
    client: TestClient,
    settings: Settings,
    post_capture: Callable[..., Any],
    grant: Callable[..., dict[str, Any]],
    withdraw: Callable[..., dict[str, Any]],
) -> None:
    grant("capture", "store_face")
    session_id = start_session(client, USER)
    with_face = post_capture(session_id).json()["record_id"]
    withdraw("store_face")
    without_face = post_capture(session_id).json()["record_id"]
    change = withdraw("store_face", erase=True)
    assert [e["capture_record_id"] for e in change["erased"]] == [with_face]
    assert [p.stem for p in feature_files(settings, session_id, USER)] == [without_face]
    report = verify(settings)
    assert report.ok and report.statuses == {"active": 1, "erased": 1}


def test_admin_erases_a_whole_person(
    client: TestClient,
    settings: Settings,
    admin: dict[str, str],
    carer: dict[str, str],
    captured: tuple[str, list[str]],
) -> None:
    session_id, record_ids = captured
    assert client.post(f"/users/{USER}/erasure", json={}, headers=carer).status_code == 403
    response = client.post(f"/users/{USER}/erasure", json={"reason": "request by the family"}, headers=admin)
    assert response.status_code == 200, response.text
    assert len(response.json()["erased"]) == 2 and feature_files(settings, session_id, USER) == []
    view = client.get(f"/users/{USER}/consent", headers=carer).json()
    assert not any(scope["active"] for scope in view["scopes"].values())


def test_a_file_restored_from_a_backup_is_erased_again_at_start(
    client: TestClient,
    settings: Settings,
    withdraw: Callable[..., dict[str, Any]],
    captured: tuple[str, list[str]],
) -> None:
    session_id, _ = captured
    backup = {path: path.read_bytes() for path in feature_files(settings, session_id, USER)}
    withdraw("capture", erase=True)
    for path, data in backup.items():  # someone restores DATA_ROOT from last night's backup
        path.write_bytes(data)
    assert not verify(settings).ok  # an erased capture's file exists again
    Services.build(settings).projection.engine.dispose()  # the next start
    assert feature_files(settings, session_id, USER) == []
    assert verify(settings).ok


def test_the_audit_trail_shows_every_step(
    client: TestClient,
    accounts: AccountService,
    carer: dict[str, str],
    withdraw: Callable[..., dict[str, Any]],
    captured: tuple[str, list[str]],
) -> None:
    _, (record_id, _) = captured
    client.post(f"/records/{record_id}/label", json={"label": "drink"}, headers=carer)
    client.get(f"/records/{record_id}/landmarks", headers=carer)
    withdraw("capture", erase=True)
    actions = [record.action.value for record in accounts.audit.read(user_id=USER)]
    for expected in ("consent_granted", "capture_labeled", "read_landmarks", "consent_withdrawn"):
        assert expected in actions


def test_researchers_read_landmarks_only_with_research_consent(
    client: TestClient,
    accounts: AccountService,
    grant: Callable[..., dict[str, Any]],
    captured: tuple[str, list[str]],
) -> None:
    _, (record_id, _) = captured
    accounts.create_account("rhea", Role.RESEARCHER, "correct horse battery")
    accounts.grant("rhea", USER)
    token, _ = accounts.issue_token("rhea")
    researcher = {"Authorization": f"Bearer {token}"}
    refused = client.get(f"/records/{record_id}/landmarks", headers=researcher)
    assert refused.status_code == 403 and refused.json()["fields"][0]["field"] == "research"
    grant("research")
    assert client.get(f"/records/{record_id}/landmarks", headers=researcher).status_code == 200
