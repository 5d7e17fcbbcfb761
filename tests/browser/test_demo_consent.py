"""/demo/gesture with consent enforced, in real Chromium with the fake camera playing a real person
(docs/privacy.md): without `capture` consent the Capture button is disabled and the server refuses a
capture anyway (nothing written); the carer records consent to the text shown; a capture succeeds and its
event names that consent; withdrawing with erasure deletes the file; `a3cp verify` passes counting it
erased; the audit trail shows every step. axe-core finds nothing on the consent section, open or not."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from a3cp.accounts.audit import AuditTrail
from a3cp.accounts.service import AccountService
from a3cp.cli import main as a3cp_main
from a3cp.config import Settings
from a3cp.consent_texts import FOLDER
from a3cp.storage_layout import session_features_dir, session_log_path, user_stream_path
from bench.client import consent_body
from eventstore import read_log
from tests.fixtures.build import BUILD

from .conftest import CARER, USER, LiveServer, log_in_carer, start_server
from .test_demo_accessibility import axe_violations

TEXT_FILE = FOLDER / "a3cp-gestures.1.en.txt"
OTHER_PERSON = "ben01"


@pytest.fixture(scope="module")
def enforcing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("consent")
    settings = Settings(
        data_root=root / "data",
        log_root=root / "logs",
        db_url=f"sqlite:///{root / 'projection.sqlite3'}",
        consent_required=True,
    )
    server = start_server(settings)
    yield server
    server.stop()


@pytest.fixture
def consent_page(browser: Any, enforcing_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=enforcing_server.url, permissions=["camera"], bypass_csp=True)
    log_in_carer(context, enforcing_server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _consent_stream(settings: Settings) -> list[dict[str, Any]]:
    return read_log(user_stream_path(settings, USER)).events


def _capture(page: Any) -> str:
    page.click("#btn-capture")
    expect(page.locator("#capture-state")).to_have_text("capturing")
    record_id = str(page.input_value("#capture-record-id"))
    page.wait_for_timeout(3_000)  # about 3 s of frames (not a timing assertion)
    page.click("#btn-stop")
    expect(page.locator("#capture-state")).to_have_text("recorded", timeout=60_000)
    return record_id


def test_consent_recorded_captured_under_withdrawn_and_erased(
    consent_page: Any,
    enforcing_server: LiveServer,
    axe_source: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page, settings = consent_page, enforcing_server.settings
    page.goto("/demo/gesture")
    expect(page.locator("#consent-summary")).to_contain_text(f"{USER} has not given any consent yet")
    expect(page.locator("#consent-needed")).to_contain_text("Capture is disabled")
    page.click("#btn-start")
    expect(page.locator("#session-id")).not_to_have_value("")
    session_id = page.input_value("#session-id")
    assert page.is_disabled("#btn-capture")
    assert page.locator("#consent-record").get_attribute("open") is not None  # the form is offered
    assert page.text_content("#consent-text") == TEXT_FILE.read_text(encoding="utf-8")
    assert axe_violations(page, axe_source) == []

    # The server refuses too (the button forced on): no file, no capture event, the refusal in words.
    page.evaluate("document.getElementById('btn-capture').disabled = false")
    page.click("#btn-capture")
    expect(page.locator("#error")).to_contain_text("consent_required")
    assert not session_features_dir(settings, USER, session_id).exists() or not any(
        session_features_dir(settings, USER, session_id).iterdir()
    )
    events = read_log(session_log_path(settings, USER, session_id)).events
    assert [e["event"] for e in events] == ["session.start"]

    # The carer records consent to the text shown.
    page.check("#consent-scope-capture")
    page.check("#consent-scope-store_face")
    page.fill("#consent-grantor", "Maria Example")
    page.select_option("#consent-relationship", "parent")
    page.select_option("#consent-method", "written")
    page.click("#btn-consent-grant")
    expect(page.locator("#status")).to_contain_text(f"Consent recorded for {USER}: Capture, Face")
    expect(page.locator("#consent-summary")).to_contain_text("has given consent for: Capture, Face")
    expect(page.locator("#consent-needed")).to_be_hidden()
    expect(page.locator("#btn-capture")).to_be_enabled()
    assert page.evaluate("document.activeElement.id") == "consent-heading"
    (granted,) = [e for e in _consent_stream(settings) if e["event"] == "consent.granted"]
    assert granted["scopes"] == ["capture", "store_face"] and granted["recorded_by"] == "cara"
    assert (granted["text_id"], granted["text_version"], granted["language"]) == ("a3cp-gestures", "1", "en")
    assert granted["text_sha256"] == hashlib.sha256(TEXT_FILE.read_bytes()).hexdigest()
    assert axe_violations(page, axe_source) == []
    BUILD.mkdir(exist_ok=True)  # a build product: `make report` publishes it to docs/
    page.locator("#consent").screenshot(path=str(BUILD / "demo-consent.png"))

    # A capture under that consent names it.
    record_id = _capture(page)
    feature_file = session_features_dir(settings, USER, session_id) / f"{record_id}.npz"
    assert feature_file.is_file()
    (captured,) = [
        e
        for e in read_log(session_log_path(settings, USER, session_id)).events
        if e["record_id"] == record_id
    ]
    assert captured["consent_record_id"] == granted["record_id"]

    # Withdraw capture with erasure: one click, the file gone, capture disabled again.
    page.check("#erase-capture")
    page.click("#btn-withdraw-capture")
    expect(page.locator("#status")).to_contain_text(
        "Capture consent withdrawn for demo_user. 1 capture(s) erased."
    )
    expect(page.locator("#consent-needed")).to_contain_text("Capture is disabled")
    assert page.is_disabled("#btn-capture")
    assert not feature_file.exists()
    stream = _consent_stream(settings)
    (withdrawn,) = [e for e in stream if e["event"] == "consent.withdrawn"]
    assert withdrawn["scopes"] == ["capture"] and withdrawn["erase"] is True
    (erased,) = [e for e in stream if e["event"] == "capture.erased"]
    assert erased["capture_record_id"] == record_id and erased["consent_record_id"] == withdrawn["record_id"]
    expect(page.locator("#consent-history")).to_contain_text(f"capture {record_id} erased")
    page.click("#btn-end")
    expect(page.locator("#session-id")).to_have_value("")

    # `a3cp verify` passes, counting the capture erased.
    monkeypatch.setenv("DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("LOG_ROOT", str(settings.log_root))
    capsys.readouterr()
    assert a3cp_main(["verify"]) == 0
    printed = capsys.readouterr().out
    assert "OK" in printed and "captures: 0 active, 0 discarded, 1 erased" in printed, printed

    # The audit trail shows each step, in order.
    trail = [(r.action, r.outcome, r.account) for r in AuditTrail(settings).read(user_id=USER)]
    steps = [(str(action), str(outcome)) for action, outcome, account in trail if account == "cara"]
    expected = [
        ("session_start", "ok"),
        ("capture", "forbidden"),
        ("consent_granted", "ok"),
        ("capture", "ok"),
        ("consent_withdrawn", "ok"),
        ("session_end", "ok"),
    ]
    assert [step for step in steps if step[0] != "read_consent"] == expected
    assert ("read_consent", "ok") in steps  # the page read the consent it showed


def test_consent_is_recorded_from_the_keyboard_with_an_end_date(consent_page: Any) -> None:
    """From the Record consent summary, Tab walks the scopes and fields to the submit button (a date
    input takes one Tab per part: day, month, year); Space ticks, Enter records; the end date is kept
    as the end of that day (UTC)."""
    page = consent_page
    page.goto("/demo/gesture")
    expect(page.locator("#consent-table")).to_be_visible()  # the person's consent is read and shown
    page.focus("#consent-record > summary")
    reached = []
    while not reached or reached[-1] != "btn-consent-grant" and len(reached) < 20:
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if not reached or reached[-1] != focused:
            reached.append(focused)
    assert reached == [
        "consent-scope-capture",
        "consent-scope-store_face",
        "consent-scope-research",
        "consent-scope-train",
        "consent-grantor",
        "consent-relationship",
        "consent-method",
        "consent-language",
        "consent-valid-until",
        "btn-consent-grant",
    ], reached
    page.focus("#consent-scope-research")
    page.keyboard.press("Space")
    page.focus("#consent-grantor")
    page.keyboard.type("Elias Example")
    page.fill("#consent-valid-until", "2030-12-31")
    page.focus("#btn-consent-grant")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text(f"Consent recorded for {USER}: Research")
    expect(page.locator("#consent-row-research")).to_contain_text("until 2030-12-31 23:59 UTC")
    expect(page.locator("#consent-row-research")).to_contain_text("by Elias Example (self), written")


def test_picking_another_person_takes_the_withdraw_buttons_away_at_once(
    consent_page: Any, enforcing_server: LiveServer
) -> None:
    """While the next person's consent is still being read, the previous person's rows (with their
    Withdraw and erase controls) are gone: a click meant for one person never withdraws for another."""
    page = consent_page
    AccountService.build(enforcing_server.settings).grant(CARER, OTHER_PERSON)
    given = page.request.post(
        f"{enforcing_server.url}/users/{USER}/consent",
        data=json.dumps(consent_body("research")),
        headers={"Origin": enforcing_server.url, "Content-Type": "application/json"},
    )
    assert given.status == 201, given.text()
    page.goto("/demo/gesture")
    page.select_option("#person", USER)
    expect(page.locator("#btn-withdraw-research")).to_be_visible()
    held: list[Any] = []
    page.route(f"**/users/{OTHER_PERSON}/consent", lambda route: held.append(route))  # held until released
    page.select_option("#person", OTHER_PERSON)
    expect(page.locator("#consent-summary")).to_have_text(f"Reading the consent of {OTHER_PERSON}…")
    expect(page.locator("#consent-rows button")).to_have_count(0)
    for _ in range(100):  # the page's request reaches the route (not a timing assertion)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page did not ask for the next person's consent"
    held[0].continue_()
    expect(page.locator("#consent-person")).to_have_text(OTHER_PERSON)
    expect(page.locator("#btn-withdraw-research")).to_have_count(0)  # the other person gave none
