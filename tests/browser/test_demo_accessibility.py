"""Accessibility of the demo pages in real Chromium: axe-core finds nothing, every control is
reachable and operable from the keyboard, status changes go through an aria-live region, and every
button is at least 44x44 CSS px. Opened logged in as the carer granted USER."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import USER

PAGES = ["/demo/session", "/demo/gesture", "/demo/sessions", "/demo/try"]
pytestmark = pytest.mark.usefixtures("carer_logged_in")
# Every page starts with the account bar's Log out button, then the person picker.
ACCOUNT_BAR_STOPS = ["btn-logout", "person"]


def axe_violations(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(" "))}));
        }"""
    )


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violations(page, axe_source: str, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert axe_violations(page, axe_source) == []


@pytest.mark.parametrize("path", PAGES)
def test_buttons_are_at_least_44_px_and_status_is_live(page, path: str) -> None:
    page.goto(path)
    sizes = page.eval_on_selector_all("button", "els => els.map(b => [b.id, b.offsetWidth, b.offsetHeight])")
    assert sizes
    for name, width, height in sizes:
        assert width >= 44 and height >= 44, f"{path} button {name} is {width}x{height}"
    status = page.locator("#status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.get_attribute("role") == "status"


def test_session_page_is_keyboard_operable_and_announces(page, axe_source: str) -> None:
    page.goto("/demo/session")
    expect(page.locator("#person")).to_have_value(USER)
    for stop in [*ACCOUNT_BAR_STOPS, "btn-start"]:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == stop
    page.keyboard.press("Enter")
    expect(page.locator("#session-id")).not_to_have_value("")
    session_id = page.input_value("#session-id")
    assert page.text_content("#session-state") == "active"
    assert session_id in page.text_content("#status")
    assert page.is_disabled("#btn-start")
    assert axe_violations(page, axe_source) == []
    page.reload()
    assert page.input_value("#session-id") == ""


def test_gesture_page_tab_order_reaches_every_enabled_control(page) -> None:
    page.goto("/demo/gesture")
    expect(page.locator("#person")).to_have_value(USER)
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id"))
    assert reached[:3] == [*ACCOUNT_BAR_STOPS, "btn-start"]
    assert "intent" in reached
    # Actions that need a session are disabled (so not in the tab order) until one exists.
    assert page.is_disabled("#btn-capture") and page.is_disabled("#btn-stop") and page.is_disabled("#btn-end")
    page.focus("#btn-start")
    page.keyboard.press("Space")
    expect(page.locator("#btn-capture")).to_be_enabled()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "btn-end"


def test_sessions_page_form_works_from_the_keyboard(page) -> None:
    page.goto("/demo/sessions")
    expect(page.locator("#person")).to_have_value(USER)
    for stop in [*ACCOUNT_BAR_STOPS, "btn-load"]:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == stop
    page.keyboard.press("Enter")
    expect(page.locator("#status")).not_to_have_text(re.compile(r"^(Pick a person|Loading)"))
