"""The three roles of one code base, in process: what each serves and which capture pipeline it uses.

Also the extractor's internal endpoint on its own: it records nothing unless the forwarded body ends
with its `finish` part (a connection cut before that must leave no file and no event).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from a3cp.bootstrap import Services
from a3cp.capture.remote import RemoteCaptureService
from a3cp.cli import build_parser
from a3cp.config import Settings
from a3cp.services.captures import CaptureService
from bench.client import capture_meta, start_session
from bench.person import person_frames
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.recorded import feature_events, feature_files
from web.app import create_app
from web.routes.extractor import PATH as EXTRACTOR_PATH


def test_default_role_is_all_and_unknown_roles_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["serve"]).role == "all"
    monkeypatch.setenv("A3CP_ROLE", "both")
    with pytest.raises(ValueError, match="A3CP_ROLE"):
        Settings.from_env()


def test_each_role_picks_its_capture_pipeline(settings: Settings) -> None:
    assert isinstance(Services.build(settings).captures, CaptureService)
    assert isinstance(Services.build(replace(settings, role="extractor")).captures, CaptureService)
    ingest = Services.build(replace(settings, role="ingest", extractor_url="http://127.0.0.1:9/"))
    assert isinstance(ingest.captures, RemoteCaptureService)
    assert ingest.captures.url == "http://127.0.0.1:9" + EXTRACTOR_PATH


def test_extractor_serves_only_its_internal_endpoint(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, role="extractor"))) as client:
        assert client.get("/healthz").status_code == 200
        assert list(client.get("/openapi.json").json()["paths"]) == [EXTRACTOR_PATH]
        assert client.post("/session_manager/sessions.start", json={}).status_code == 404
        assert client.get("/demo/session").status_code == 404
    with signed_in_client(create_app(settings)) as client:
        assert EXTRACTOR_PATH not in client.get("/openapi.json").json()["paths"]


def test_forwarded_capture_without_finish_records_nothing(settings: Settings, client: TestClient) -> None:
    session_id = start_session(client)
    spec = capture_meta(session_id, frames=4)
    parts = [("spec", (None, json.dumps(spec), "application/json"))]
    parts += [("frame", (f"{i}.jpg", frame, "image/jpeg")) for i, frame in enumerate(person_frames(4))]
    with TestClient(create_app(replace(settings, role="extractor"))) as extractor:
        response = extractor.post(EXTRACTOR_PATH, files=parts)
    assert response.status_code == 400, response.text
    assert response.json()["fields"][0]["field"] == "finish"
    assert feature_files(settings) == [] and feature_events(settings) == []
