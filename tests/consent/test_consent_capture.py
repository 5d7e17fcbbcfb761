"""Consent at the edge of every capture write (docs/privacy.md): refused without `capture` consent over
HTTP and WebSocket with no file and no event, accepted after granting (the event names the consent),
refused again after withdrawal; without `store_face` the face block is NaN and quality says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.landmarks.layout import PARTS
from bench.client import USER, start_session
from tests.consent.conftest import grant_body
from tests.fixtures.accounts import anonymous
from tests.fixtures.ws_capture import Capture, events_of, feature_files

WS_PATH = "/camera_feed_worker/capture"
FACE = next(part for part in PARTS if part.name == "face")


def _nothing_recorded(settings: Settings, session_id: str) -> None:
    assert feature_files(settings, session_id, USER) == []
    assert [event["event"] for event in events_of(settings, session_id, USER)] == ["session.start"]


def _feature_event(settings: Settings, session_id: str) -> dict[str, Any]:
    [event] = [e for e in events_of(settings, session_id, USER) if e["event"] == "capture.features"]
    return event


def test_http_capture_needs_consent_and_names_it(
    client: TestClient,
    settings: Settings,
    post_capture: Callable[..., Any],
    grant: Callable[..., dict[str, Any]],
    withdraw: Callable[..., dict[str, Any]],
) -> None:
    session_id = start_session(client, USER)
    refused = post_capture(session_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "consent_required"
    assert refused.json()["fields"][0]["field"] == "capture"
    _nothing_recorded(settings, session_id)

    consent = grant("capture", "store_face")
    accepted = post_capture(session_id)
    assert accepted.status_code == 201, accepted.text
    event = _feature_event(settings, session_id)
    assert event["consent_record_id"] == consent["record_id"]
    assert "face_stored" not in event["quality"] and event["quality"]["face"] > 0.5

    withdraw("capture")
    again = post_capture(session_id)
    assert again.status_code == 403 and "consent_required" in again.text
    assert len([e for e in events_of(settings, session_id, USER) if e["event"] == "capture.features"]) == 1


def _ws_messages(ws: Any) -> tuple[list[dict[str, Any]], int]:
    messages = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return messages, int(message["code"])
        messages.append(json.loads(message["text"]))


def test_websocket_capture_is_refused_at_open_without_consent(
    client: TestClient, settings: Settings, grant: Callable[..., dict[str, Any]], frames: tuple[bytes, ...]
) -> None:
    session_id = start_session(client, USER)
    capture = Capture(session_id, user_id=USER, fps=2)
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open())  # no frame is ever sent: the refusal comes at open
        messages, code = _ws_messages(ws)
    assert [m["event"] for m in messages] == ["capture.abort"]
    assert messages[0]["error_code"] == "consent_required" and code == 1000
    _nothing_recorded(settings, session_id)

    consent = grant("capture")
    capture = Capture(session_id, user_id=USER, fps=2)
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open(width=320, height=320))  # the size of `frames`
        for seq, frame in enumerate(frames, start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(capture.close(seconds=3.0))
        messages, code = _ws_messages(ws)
    assert [m["event"] for m in messages] == ["capture.result"], messages
    assert _feature_event(settings, session_id)["consent_record_id"] == consent["record_id"]


def test_without_store_face_the_face_block_is_nan_and_quality_says_so(
    client: TestClient,
    settings: Settings,
    post_capture: Callable[..., Any],
    grant: Callable[..., dict[str, Any]],
) -> None:
    grant("capture")
    session_id = start_session(client, USER)
    response = post_capture(session_id)
    assert response.status_code == 201, response.text
    assert response.json()["quality"]["face_stored"] is False
    [path] = feature_files(settings, session_id, USER)
    with np.load(path) as npz:
        features = npz["features"]
    assert np.isnan(features[:, FACE.columns]).all()
    assert not np.isnan(features[:, PARTS[0].columns]).all()  # the pose is still there
    quality = _feature_event(settings, session_id)["quality"]
    assert quality["face_stored"] is False and quality["face"] == 0.0


def test_bad_consent_bodies_name_the_field(client: TestClient, carer: dict[str, str]) -> None:
    for field, value in [("scopes", ["dance"]), ("text_sha256", "abc"), ("relationship", "friend")]:
        response = client.post(
            f"/users/{USER}/consent", json=grant_body("capture", **{field: value}), headers=carer
        )
        assert response.status_code == 400, response.text
        assert field in response.text
    assert anonymous(client).post(f"/users/{USER}/consent", json=grant_body("capture")).status_code == 401


def test_consent_state_and_history_are_shown(
    client: TestClient,
    carer: dict[str, str],
    stranger: dict[str, str],
    grant: Callable[..., dict[str, Any]],
    withdraw: Callable[..., dict[str, Any]],
) -> None:
    first = grant("capture", "research")
    withdraw("research")
    view = client.get(f"/users/{USER}/consent", headers=carer).json()
    assert view["scopes"]["capture"] == {
        "active": True,
        "consent_record_id": first["record_id"],
        "valid_until": None,
    }
    assert view["scopes"]["research"]["active"] is False
    assert [e["event"] for e in view["history"]] == ["consent.granted", "consent.withdrawn"]
    assert view["history"][0]["recorded_by"] == "carer01" and view["history"][0]["performer_id"] == "carer01"
    assert client.get(f"/users/{USER}/consent", headers=stranger).status_code == 404
