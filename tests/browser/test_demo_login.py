"""The demo pages behind the login, in real Chromium: without one each page sends the browser to /login
and back afterwards; the account bar names who is logged in; Log out ends the login on the server; an
account that may not capture is told so and cannot start a session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService

from .conftest import CARER, CARER_PASSWORD, USER, LiveServer, ensure_carer, log_in_carer

PAGES = ["/demo/session", "/demo/gesture", "/demo/sessions"]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_login_goes_to_the_login_and_back(page, live_server: LiveServer, path: str) -> None:
    ensure_carer(live_server.settings)
    page.goto(path)
    page.wait_for_url(re.compile(rf"/login\?next={re.escape(path)}$"))
    page.fill("#username", CARER)
    page.fill("#password", CARER_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{path}")
    expect(page.locator("#who")).to_have_text(f"{CARER} (carer)")
    expect(page.locator("#person")).to_have_value(USER)
    assert page.locator("#person option").all_text_contents() == [USER]


def test_log_out_ends_the_login_on_the_server(page, live_server: LiveServer) -> None:
    log_in_carer(page.context, live_server)
    page.goto("/demo/gesture")
    expect(page.locator("#who")).to_have_text(f"{CARER} (carer)")
    old_cookie = {c["name"]: c["value"] for c in page.context.cookies()}["a3cp_session"]
    page.get_by_role("button", name="Log out").press("Enter")
    page.wait_for_url("**/login")
    answer = page.context.request.get(
        f"{live_server.url}/auth/me", headers={"Cookie": f"a3cp_session={old_cookie}"}
    )
    assert answer.status == 401
    page.goto("/demo/gesture")
    page.wait_for_url(re.compile(r"/login\?next=/demo/gesture$"))


def test_an_account_that_may_not_capture_is_told_so(page, live_server: LiveServer) -> None:
    AccountService.build(live_server.settings).create_account("rita", Role.RESEARCHER, "research pass 12")
    page.context.request.post(
        f"{live_server.url}/auth/login", data={"username": "rita", "password": "research pass 12"}
    )
    page.goto("/demo/gesture")
    expect(page.locator("#status")).to_have_text("Only a carer captures; rita is researcher.")
    assert page.is_disabled("#btn-start") and page.is_disabled("#person")
    expect(page.locator("#person-hint")).to_contain_text("No person is granted")
