"""/demo/try in real Chromium with the fake camera playing a real person (docs/recognition.md): the
person's vocabulary is shown, a performed gesture gets a decision (a word or "not sure") spoken when the
carer switched speech on, axe-core finds nothing with the answer on screen, and one tap confirms or
corrects it, which makes that capture one more example. The vocabulary is seeded beforehand with real
MediaPipe captures of the portrait: still ("hello", as the fake camera plays it) and nodding ("stop")."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from a3cp.storage_layout import recognition_stream_path
from bench.client import CAPTURE_PATH, capture_meta, multipart, start_session
from bench.person import portrait_on_canvas
from eventstore import read_log
from tests.fixtures.accounts import signed_in_client
from tests.fixtures.build import BUILD
from tests.fixtures.moves import move_frames
from web.app import create_app

from .conftest import USER, LiveServer
from .test_demo_accessibility import axe_violations

pytestmark = pytest.mark.usefixtures("carer_logged_in")
FRAMES = 10
# Records what the page asks the browser to say (headless Chromium has no voice to listen to).
SPEECH_SPY = """
window.__spoken = [];
if ("speechSynthesis" in window) {
  window.speechSynthesis.speak = (utterance) => window.__spoken.push(utterance.text);
}
"""


def still_frames(count: int, phase: int) -> tuple[bytes, ...]:
    """The portrait standing still but for a few pixels of sway, framed as the fake camera plays it."""
    frames = []
    for index in range(count):
        ok, encoded = cv2.imencode(".jpg", portrait_on_canvas(320, 240, int(3 * np.sin(index + phase))))
        assert ok
        frames.append(encoded.tobytes())
    return tuple(frames)


@pytest.fixture(scope="module")
def vocabulary(live_server: LiveServer) -> None:
    """Two labelled takes each of "hello" and "stop" for USER, captured over HTTP on the server's roots."""
    app = create_app(live_server.settings)
    with signed_in_client(app) as client:
        session_id = start_session(client, USER)
        for label, frames in (
            ("hello", still_frames(FRAMES, 0)),
            ("hello", still_frames(FRAMES, 2)),
            ("stop", move_frames("nod", 0, FRAMES)),
            ("stop", move_frames("nod", 1, FRAMES)),
        ):
            meta = capture_meta(session_id, len(frames), USER, width=320, height=240)
            meta["annotation"] = {"intent": label}
            response = client.post(CAPTURE_PATH, files=multipart(meta, frames))
            assert response.status_code == 201, response.text
    app.state.services.projection.engine.dispose()


def test_perform_a_gesture_see_the_decision_and_confirm_it(
    page, live_server: LiveServer, vocabulary: None, axe_source: str
) -> None:
    page.add_init_script(SPEECH_SPY)
    page.goto("/demo/try")
    expect(page.locator("#person")).to_have_value(USER)
    expect(page.locator("#vocabulary li")).to_have_count(2)
    assert page.text_content("#vocabulary li:first-child").startswith("hello: 2 examples")
    page.check("#speak")
    page.click("#btn-perform")
    expect(page.locator("#capture-state")).to_have_text("watching")
    page.wait_for_timeout(2_500)  # about 2.5 s of the person in front of the camera
    page.click("#btn-done")
    expect(page.locator("#capture-state")).to_have_text("recognized", timeout=90_000)
    word = page.text_content("#word")
    assert word in ("hello", "stop", "not sure")
    assert page.locator("#scores li").count() == 2
    assert page.evaluate("window.__spoken") == ([] if word == "not sure" else [word])
    assert axe_violations(page, axe_source) == []
    BUILD.mkdir(exist_ok=True)  # a build product: `make report` publishes it to docs/
    page.screenshot(path=str(BUILD / "demo-try.png"), full_page=True)

    recognized = read_log(recognition_stream_path(live_server.settings, USER)).events[-1]
    assert recognized["event"] == "gesture.recognized"
    assert recognized["decision"] == (None if word == "not sure" else word)
    page.locator("#feedback-buttons button").first.click()
    expect(page.locator("#status")).to_contain_text("is now an example of")
    chosen = "hello" if word == "not sure" else word  # the first button: confirm, or the first label
    expect(page.locator("#vocabulary li", has_text=f"{chosen}: 3 examples")).to_have_count(1)


def test_a_recorded_gesture_that_cannot_be_recognized_says_why(
    page, live_server: LiveServer, vocabulary: None
) -> None:
    page.goto("/demo/try")
    expect(page.locator("#person")).to_have_value(USER)
    page.click("#btn-perform")
    expect(page.locator("#capture-state")).to_have_text("watching")
    app = create_app(live_server.settings)
    with signed_in_client(app) as client:  # every example discarded while the gesture is performed
        listed = client.get(f"/users/{USER}/vocabulary").json()
        examples = [record["record_id"] for label in listed["labels"] for record in label["records"]]
        for record_id in examples:
            response = client.post(f"/records/{record_id}/discard", json={"reason": "test"})
            assert response.status_code == 200, response.text
        page.wait_for_timeout(1_500)
        page.click("#btn-done")
        expect(page.locator("#capture-state")).to_have_text("not recognized", timeout=90_000)
        expect(page.locator("#word")).to_have_text("not recognized")
        expect(page.locator("#status")).to_contain_text("recorded but could not be recognized")
        assert page.locator("#feedback").is_hidden()
        for record_id in examples:  # the module's vocabulary back as it was
            assert client.post(f"/records/{record_id}/restore", json={}).status_code == 200
    app.state.services.projection.engine.dispose()
