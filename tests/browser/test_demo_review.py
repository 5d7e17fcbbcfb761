"""/demo/review and the curation controls in real Chromium, on a real-person capture (the astronaut
portrait through MediaPipe: pose and face found, no hands): the playback draws (the canvas changes
between frames), the scrubber and Play move through the frames, part toggles redraw, missing hands are
said and not drawn, axe-core finds nothing, keyboard-only use works, and label / discard / restore from
the review page and from /demo/sessions change the projection. Then the live preview during a
fake-camera capture on /demo/gesture, and its link to the review. The review's screenshot goes to
build/demo-review.png (`make report` publishes it to docs/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from a3cp.accounts.service import AccountService
from bench.client import CAPTURE_FRAMES, CAPTURE_PATH, capture_meta, end_session, multipart, start_session
from bench.person import person_frames
from tests.fixtures.build import BUILD

from .conftest import CARER, CARER_PASSWORD, USER, LiveServer, ensure_carer
from .test_demo_accessibility import axe_violations

pytestmark = pytest.mark.usefixtures("carer_logged_in")
CANVAS = "document.getElementById('player').toDataURL()"


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The live server's API as the carer (an API token), for setting up and reading the projection."""
    ensure_carer(live_server.settings)
    token, _ = AccountService.build(live_server.settings).issue_token(CARER)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="module")
def recorded(api: httpx.Client) -> tuple[str, list[str]]:
    """Two real-person captures of USER in one ended session: the session id and the record ids."""
    session_id = start_session(api, USER, performer_id=CARER)
    frames = person_frames(CAPTURE_FRAMES)
    record_ids = []
    for _ in range(2):
        meta = capture_meta(session_id, user_id=USER, performer_id=CARER)
        response = api.post(CAPTURE_PATH, files=multipart(meta, frames), timeout=120)
        assert response.status_code == 201, response.text
        record_ids.append(response.json()["record_id"])
    end_session(api, session_id, USER, performer_id=CARER)
    return session_id, record_ids


def projected(api: httpx.Client, session_id: str, record_id: str) -> tuple[Any, str]:
    """The capture's (label, status) as the read model shows it."""
    captures = api.get(f"/session_manager/sessions/{session_id}").json()["captures"]
    [capture] = [c for c in captures if c["record_id"] == record_id]
    return capture["label"], capture["status"]


def open_review(page: Any, record_id: str) -> None:
    page.goto(f"/demo/review?record_id={record_id}")
    expect(page.locator("#status")).to_contain_text("Capture loaded", timeout=30_000)


def test_without_login_the_review_goes_to_the_login_and_back(
    browser: Any, live_server: LiveServer, recorded: tuple[str, list[str]]
) -> None:
    _, (record_id, _) = recorded
    context = browser.new_context(base_url=live_server.url)  # no login cookie
    try:
        page = context.new_page()
        page.goto(f"/demo/review?record_id={record_id}")
        page.wait_for_url(re.compile(r"/login\?next="))
        page.fill("#username", CARER)
        page.fill("#password", CARER_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/demo/review?record_id={record_id}")
        expect(page.locator("#status")).to_contain_text("Capture loaded", timeout=30_000)
    finally:
        context.close()


def test_review_plays_a_real_capture(page: Any, recorded: tuple[str, list[str]]) -> None:
    _, (record_id, _) = recorded
    open_review(page, record_id)
    assert page.text_content("#summary").startswith(f"{CAPTURE_FRAMES} frames over 2.90 s.")
    assert "face seen in" in page.text_content("#summary")
    counts = page.text_content("#counts")
    assert f"Pose found in {CAPTURE_FRAMES} of {CAPTURE_FRAMES} frames" in counts
    assert f"Left hand found in 0 of {CAPTURE_FRAMES} frames" in counts
    assert "not found: left hand, right hand" in page.text_content("#frame-parts")  # a gap, said
    expect(page.locator("#frame-info")).to_have_text(f"frame 1 of {CAPTURE_FRAMES}, 0.00 s")
    first = page.evaluate(CANVAS)
    page.click("#btn-play")
    expect(page.locator("#btn-play")).to_have_text("Pause")
    expect(page.locator("#btn-play")).to_have_text("Play", timeout=10_000)  # played to the end
    assert page.input_value("#scrubber") == str(CAPTURE_FRAMES - 1)
    assert page.text_content("#frame-info") == f"frame {CAPTURE_FRAMES} of {CAPTURE_FRAMES}, 2.90 s"
    assert page.evaluate(CANVAS) != first  # the skeleton moved with the person
    page.locator("#scrubber").fill("0")
    assert page.evaluate(CANVAS) == first  # the scrubber goes back to exactly frame 1
    BUILD.mkdir(exist_ok=True)
    page.locator("#scrubber").fill("12")
    page.screenshot(path=str(BUILD / "demo-review.png"), full_page=True)


def test_part_toggles_redraw(page: Any, recorded: tuple[str, list[str]]) -> None:
    _, (record_id, _) = recorded
    open_review(page, record_id)
    everything = page.evaluate(CANVAS)
    page.uncheck("#show-face")
    without_face = page.evaluate(CANVAS)
    assert without_face != everything
    page.uncheck("#show-pose")
    blank = page.evaluate(
        "(() => { const c = document.getElementById('player');"
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every(v => v === 0); })()"
    )
    assert blank  # nothing shown: nothing drawn (the hands were never found)
    page.check("#show-face")
    page.check("#show-pose")
    assert page.evaluate(CANVAS) == everything


def test_review_and_sessions_pages_have_no_axe_violations(
    page: Any, axe_source: str, recorded: tuple[str, list[str]]
) -> None:
    _, (record_id, _) = recorded
    open_review(page, record_id)
    assert axe_violations(page, axe_source) == []
    page.goto("/demo/sessions")
    expect(page.locator("#person")).to_have_value(USER)
    page.click("#btn-load")
    expect(page.locator("#status")).to_contain_text("capture(s)")
    assert page.locator(".curation").count() >= 2
    assert axe_violations(page, axe_source) == []


def focus_by_tab(page: Any, element_id: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_review_is_keyboard_operable(page: Any, api: httpx.Client, recorded: tuple[str, list[str]]) -> None:
    session_id, (record_id, _) = recorded
    open_review(page, record_id)
    focus_by_tab(page, "btn-play")
    page.keyboard.press("Enter")
    expect(page.locator("#btn-play")).to_have_text("Play", timeout=10_000)
    focus_by_tab(page, "scrubber")
    page.keyboard.press("Home")
    expect(page.locator("#frame-info")).to_have_text(re.compile(r"^frame 1 of"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#frame-info")).to_have_text(re.compile(r"^frame 3 of"))
    focus_by_tab(page, "show-face")
    before = page.evaluate(CANVAS)
    page.keyboard.press("Space")
    assert not page.is_checked("#show-face") and page.evaluate(CANVAS) != before
    focus_by_tab(page, f"label-{record_id}")
    page.keyboard.press("Control+A")
    page.keyboard.type("drink")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Save label
    expect(page.locator(".curation-state")).to_have_text("Label: drink. Status: active.")
    assert projected(api, session_id, record_id) == ("drink", "active")


def test_curation_from_the_review_page_changes_the_projection(
    page: Any, api: httpx.Client, recorded: tuple[str, list[str]]
) -> None:
    session_id, (_, record_id) = recorded
    open_review(page, record_id)
    page.fill(f"#label-{record_id}", "wave")
    page.click(".btn-label")
    expect(page.locator(".curation-state")).to_have_text("Label: wave. Status: active.")
    assert projected(api, session_id, record_id) == ("wave", "active")
    assert page.is_disabled(".btn-restore")
    page.click(".btn-discard")  # no reason yet: refused on the page, nothing sent
    expect(page.locator("#error")).to_contain_text("Give a reason")
    assert projected(api, session_id, record_id) == ("wave", "active")
    page.fill(f"#reason-{record_id}", "bad take")
    page.click(".btn-discard")
    expect(page.locator(".curation-state")).to_have_text("Label: wave. Status: discarded.")
    assert projected(api, session_id, record_id) == ("wave", "discarded")
    page.click(".btn-restore")
    expect(page.locator(".curation-state")).to_have_text("Label: wave. Status: active.")
    assert projected(api, session_id, record_id) == ("wave", "active")


def test_curation_from_the_sessions_page_changes_the_projection(
    page: Any, api: httpx.Client, recorded: tuple[str, list[str]]
) -> None:
    session_id, (_, record_id) = recorded
    page.goto("/demo/sessions")
    page.click("#btn-load")
    expect(page.locator("#status")).to_contain_text("capture(s)")
    controls = page.locator(f'.curation[data-record-id="{record_id}"]')
    controls.locator(f"#reason-{record_id}").fill("wrong person")
    controls.locator(".btn-discard").click()
    expect(controls.locator(".curation-state")).to_contain_text("Status: discarded.")
    assert projected(api, session_id, record_id)[1] == "discarded"
    controls.locator(".btn-restore").click()
    expect(controls.locator(".curation-state")).to_contain_text("Status: active.")
    assert projected(api, session_id, record_id)[1] == "active"
    page.click(f'a.review-link[href="/demo/review?record_id={record_id}"]')
    expect(page.locator("#status")).to_contain_text("Capture loaded", timeout=30_000)


def test_live_preview_during_a_fake_camera_capture(page: Any) -> None:
    page.goto("/demo/gesture")
    expect(page.locator("#person")).to_have_value(USER)
    sent_opens: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent_opens.append(frame)))
    page.click("#btn-start")
    expect(page.locator("#btn-capture")).to_be_enabled()
    page.click("#btn-capture")
    expect(page.locator("#capture-state")).to_have_text("capturing")
    expect(page.locator("#live-tracking")).to_contain_text("pose found", timeout=20_000)
    drawn = page.evaluate(
        "(() => { const c = document.getElementById('live-skeleton');"
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0); })()"
    )
    assert drawn  # the skeleton is over the video
    assert any('"preview":true' in str(frame) for frame in sent_opens)
    page.wait_for_timeout(3_000)  # a capture lasts at least 2 s, however soon the preview came
    page.click("#btn-stop")
    expect(page.locator("#capture-state")).to_have_text("recorded", timeout=60_000)
    page.click("#review-link")
    expect(page.locator("#status")).to_contain_text("Capture loaded", timeout=30_000)
