"""/demo/gesture end to end in real Chromium with the fake camera playing a real person: start a
session, capture about 3 s, stop, and check what the page shows against what was recorded. Then the
errors a carer must see in words: the server refusing (400) and the server being down. Every page is
opened logged in as the carer granted USER."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from a3cp.config import Settings
from a3cp.storage_layout import session_features_dir, session_log_path
from eventstore import read_log
from tests.fixtures.build import BUILD

from .conftest import CARER, USER, LiveServer, log_in_carer, start_server

pytestmark = pytest.mark.usefixtures("carer_logged_in")


def test_capture_a_gesture_end_to_end(page, live_server: LiveServer) -> None:
    page.goto("/demo/gesture")
    expect(page.locator("#who")).to_have_text(f"{CARER} (carer)")
    expect(page.locator("#person")).to_have_value(USER)
    page.click("#btn-start")
    expect(page.locator("#session-id")).not_to_have_value("")
    session_id = page.input_value("#session-id")
    page.fill("#intent", "wave")
    page.click("#btn-capture")
    expect(page.locator("#capture-state")).to_have_text("capturing")
    record_id = page.input_value("#capture-record-id")
    page.wait_for_timeout(3_000)  # about 3 s of frames (not a timing assertion)
    page.click("#btn-stop")
    expect(page.locator("#capture-state")).to_have_text("recorded", timeout=60_000)
    assert "Capture recorded" in page.text_content("#status")

    features = session_features_dir(live_server.settings, USER, session_id) / f"{record_id}.npz"
    shown_hash = page.text_content("#result-hash")
    assert shown_hash == "sha256:" + hashlib.sha256(features.read_bytes()).hexdigest()
    with np.load(features) as archive:
        array = archive["features"]
    assert page.text_content("#result-t") == str(array.shape[0])
    assert page.text_content("#result-d") == str(array.shape[1]) == "1662"
    assert not np.isnan(array).all()
    assert "face seen in" in page.text_content("#result-quality")
    BUILD.mkdir(exist_ok=True)  # a build product: `make report` publishes it to docs/
    page.screenshot(path=str(BUILD / "demo-gesture.png"), full_page=True)

    page.click("#btn-end")
    expect(page.locator("#session-id")).to_have_value("")
    events = read_log(session_log_path(live_server.settings, USER, session_id)).events
    assert [e["event"] for e in events] == ["session.start", events[1]["event"], "session.end"]
    assert [e["record_id"] for e in events].count(record_id) == 1
    assert events[1]["record_id"] == record_id and events[1]["source"] == "landmark_extractor"
    assert events[1]["annotation"]["intent"] == "wave"
    assert {e["performer_id"] for e in events if e["source"] != "landmark_extractor"} == {CARER}


def test_start_refused_with_400_is_shown_in_words(page) -> None:
    body = {"error": "validation_error", "message": "invalid fields: user_id", "fields": []}
    page.route(
        "**/session_manager/sessions.start",
        lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps(body)),
    )
    for path in ("/demo/session", "/demo/gesture"):
        page.goto(path)
        page.click("#btn-start")
        error = page.locator("#error")
        error.wait_for(state="visible")
        assert "HTTP 400" in error.text_content() and "invalid fields: user_id" in error.text_content()
        assert error.get_attribute("role") == "alert"
        assert page.input_value("#session-id") == ""
        assert not page.is_disabled("#btn-start")  # the carer may try again; the page never retries


def test_server_down_is_shown_in_words(browser, tmp_path: Path) -> None:

    settings = Settings(
        data_root=tmp_path / "d", log_root=tmp_path / "l", db_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    server = start_server(settings)
    context = browser.new_context(base_url=server.url, permissions=["camera"])
    log_in_carer(context, server)
    try:
        page = context.new_page()
        page.goto("/demo/gesture")
        page.wait_for_load_state("networkidle")
        server.stop()
        page.click("#btn-start")
        page.locator("#error").wait_for(state="visible")
        assert "Could not reach the server" in page.text_content("#error")
        assert "failed" in page.text_content("#status")
    finally:
        context.close()


def test_camera_denied_shows_a_message_and_sends_nothing(browser, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, permissions=[])
    log_in_carer(context, live_server)
    try:
        page = context.new_page()
        page.add_init_script(
            "navigator.mediaDevices.getUserMedia = () =>"
            " Promise.reject(new DOMException('denied', 'NotAllowedError'));"
        )
        sockets = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto("/demo/gesture")
        page.click("#btn-start")
        expect(page.locator("#btn-capture")).to_be_enabled()
        page.click("#btn-capture")
        page.locator("#error").wait_for(state="visible")
        assert "Camera access was denied" in page.text_content("#error")
        assert "Nothing was sent" in page.text_content("#error")
        assert sockets == []
    finally:
        context.close()


def test_sessions_page_lists_the_capture_with_a_verified_badge(page, live_server: LiveServer) -> None:
    """Runs after the end-to-end test in this module (same live server): its capture is listed."""
    page.goto("/demo/sessions")
    expect(page.locator("#person")).to_have_value(USER)
    page.click("#btn-load")
    expect(page.locator("#status")).to_contain_text("capture(s)")
    assert page.locator(".badge-ok").count() >= 1
    assert page.locator(".badge-fail").count() == 0
