"""/demo/sessions pages through a long list: the API's pages of 20, "More sessions" following each
`next` link, every session shown exactly once and in the list's order, the count announced, and the
focus moved to the first session a page brought (the pressed button is gone)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.schemas import utc_now
from bench.client import end_session, start_session
from tests.fixtures.accounts import account_headers

from .conftest import USER, LiveServer, log_in_carer

SESSIONS = 45  # two full pages of 20 and a last one of 5


def test_more_sessions_pages_through_every_session_once(page, live_server: LiveServer) -> None:
    headers = account_headers(AccountService.build(live_server.settings), "recorder", Role.CARER, (USER,))
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as http:
        started = []
        for _ in range(SESSIONS):
            started.append(start_session(http, USER, timestamp=utc_now(), performer_id="recorder"))
            end_session(http, started[-1], USER, timestamp=utc_now(), performer_id="recorder")
    log_in_carer(page.context, live_server)
    page.goto("/demo/sessions")
    expect(page.locator("#person")).to_have_value(USER)
    page.click("#btn-load")
    headings = page.locator("#sessions h2")
    for shown in (20, 40):
        expect(headings).to_have_count(shown)
        expect(page.locator("#status")).to_have_text(re.compile(rf"^{shown} session\(s\) .* so far\.$"))
        page.click("#more-sessions")
        expect(page.locator("#sessions h2").nth(shown)).to_be_focused()
    expect(headings).to_have_count(SESSIONS)
    expect(page.locator("#status")).to_have_text(f"{SESSIONS} session(s) and 0 capture(s) for {USER}.")
    expect(page.locator("#more-sessions")).to_have_count(0)
    assert headings.all_text_contents() == [f"Session {session_id}" for session_id in started]
