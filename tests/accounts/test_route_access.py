"""Every route needs an account; grants decide what it sees (issue 16).

- Every operation in /openapi.json (the login excepted) answers 401 JSON `unauthenticated` without
  credentials, and the right answer with a token and with a login cookie.
- Hypothesis over accounts (carer, researcher, admin, ungranted carer) × users × data routes: the answer is
  what `authorize` decides — a read without a grant is 404 like a missing id, a write 403, an allowed one
  goes through — and each is audited.
- The capture WebSocket refuses an upgrade without credentials, with a foreign Origin on a cookie, or with
  a revoked token, before reading a message; nothing is recorded.
- No password, token or login-session id appears in any file under DATA_ROOT or LOG_ROOT.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient, WebSocketDenialResponse

from a3cp.accounts.policy import Action, Decision, Principal, Role, authorize
from a3cp.config import Settings
from a3cp.schemas import AuditAction
from bench.client import (
    CAPTURE_PATH,
    END,
    START,
    capture_meta,
    end_session,
    multipart,
    request_body,
    start_session,
)
from tests.fixtures.accounts import OTHER_PASSWORD, anonymous, other_account
from tests.fixtures.ws_capture import Capture

ORIGIN = "http://testserver"
WS_PATH = "/camera_feed_worker/capture"
USERS = ("u1", "u2", "u3")
# name -> (role, grants)
ACCOUNTS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "cara": (Role.CARER, ("u1",)),
    "rita": (Role.RESEARCHER, ("u1", "u2")),
    "boss": (Role.ADMIN, ()),
    "nemo": (Role.CARER, ()),
}
EXAMPLES = 60


def _path_for(template: str, session_id: str, record_id: str) -> str:
    values = {"session_id": session_id, "record_id": record_id, "user_id": "u1", "name": "cara"}
    values |= {"handle": "h" * 16, "secret": "s" * 32, "export_id": "e" * 16}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    """One session for each of u1, u2, u3 (started by the fixture carer), the four accounts' tokens."""
    sessions = {user: start_session(client, user) for user in USERS}
    records = {
        user: client.get(f"/session_manager/sessions/{sid}").json()["start_record_id"]
        for user, sid in sessions.items()
    }
    tokens = {
        name: other_account(client.app, name, role, grants) for name, (role, grants) in ACCOUNTS.items()
    }
    return {"sessions": sessions, "records": records, "tokens": tokens}


def test_every_operation_needs_credentials(client: TestClient, world: dict[str, Any]) -> None:
    document = client.get("/openapi.json").json()
    nobody = anonymous(client)
    checked = 0
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if template == "/auth/login":
                assert "security" not in operation
                continue
            assert operation["security"] == [{"cookieAuth": []}, {"bearerAuth": []}], template
            url = _path_for(template, world["sessions"]["u1"], world["records"]["u1"])
            response = nobody.request(method.upper(), url, json={} if method != "get" else None)
            assert response.status_code == 401, (method, template, response.text)
            assert response.json()["error"] == "unauthenticated"
            checked += 1
    assert checked >= 10


def _login(client: TestClient, name: str) -> TestClient:
    """A fresh client holding `name`'s login cookie (and sending our Origin, as a same-origin page does)."""
    browser = TestClient(client.app, headers={"Origin": ORIGIN})
    response = browser.post("/auth/login", json={"username": name, "password": OTHER_PASSWORD})
    assert response.status_code == 200, response.text
    assert "a3cp_session" in browser.cookies
    return browser


def test_token_and_cookie_both_get_the_right_answer(client: TestClient, world: dict[str, Any]) -> None:
    session_id, record_id = world["sessions"]["u1"], world["records"]["u1"]
    reads = [
        f"/session_manager/sessions/{session_id}",
        "/session_manager/users/u1/sessions",
        f"/records/{record_id}",
        f"/records/{record_id}/verify",
    ]
    browser = _login(client, "cara")
    for url in reads:
        assert client.get(url, headers=world["tokens"]["cara"]).status_code == 200, url
        assert browser.get(url).status_code == 200, url
    end_session(client, session_id, "u1")  # a person has one active session at a time
    by_token = client.post(
        START, json=request_body("u1", performer_id="cara"), headers=world["tokens"]["cara"]
    )
    assert by_token.status_code == 201, by_token.text
    end_session(client, by_token.json()["session_id"], "u1")
    by_cookie = browser.post(START, json=request_body("u1", performer_id="cara"))
    assert by_cookie.status_code == 201, by_cookie.text
    assert by_cookie.json()["performer_id"] == "cara"


def test_a_cross_site_cookie_post_is_refused_and_the_same_origin_one_accepted(
    client: TestClient, world: dict[str, Any]
) -> None:
    end_session(client, world["sessions"]["u1"], "u1")  # so that the accepted start opens a session
    browser = _login(client, "cara")
    body = request_body("u1")
    del body["performer_id"]
    foreign = browser.post(START, json=body, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden"
    cross_site = browser.post(START, json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    same = browser.post(START, json=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 201, same.text


def _expected(account: str, action: Action, user_id: str) -> Decision:
    role, grants = ACCOUNTS[account]
    return authorize(Principal(account, role, frozenset(grants)), action, user_id)


ROUTES = ("session", "list", "record", "verify", "validate", "start", "end", "capture")


def _send(client: TestClient, world: dict[str, Any], route: str, account: str, user: str) -> Any:
    headers = world["tokens"][account]
    session_id, record_id = world["sessions"][user], world["records"][user]
    gets = {
        "session": f"/session_manager/sessions/{session_id}",
        "list": f"/session_manager/users/{user}/sessions",
        "record": f"/records/{record_id}",
        "verify": f"/records/{record_id}/verify",
    }
    if route in gets:
        return client.get(gets[route], headers=headers)
    if route == "validate":
        body = {"user_id": user, "session_id": session_id}
        return client.post("/session_manager/sessions.validate", json=body, headers=headers)
    if route == "start":
        return client.post(START, json=request_body(user, performer_id=account), headers=headers)
    if route == "end":
        body = request_body(user, performer_id=account, session_id=session_id)
        return client.post(END, json=body, headers=headers)
    meta = capture_meta(session_id, frames=1, user_id=user, performer_id=account)
    return client.post(CAPTURE_PATH, files=multipart(meta, [b"not a frame"]), headers=headers)


def test_grants_decide_every_answer(
    client: TestClient, settings: Settings, world: dict[str, Any], reliability_report: Any
) -> None:
    seen: list[tuple[str, str, str]] = []

    @hypothesis_settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        account=st.sampled_from(sorted(ACCOUNTS)),
        user=st.sampled_from(USERS),
        route=st.sampled_from(ROUTES),
    )
    def check(account: str, user: str, route: str) -> None:
        seen.append((account, user, route))
        write = route in ("start", "end", "capture")
        decision = _expected(account, Action.CAPTURE if write else Action.READ, user)
        response = _send(client, world, route, account, user)
        if decision is Decision.ALLOWED:
            assert response.status_code not in (401, 403, 404), (account, user, route, response.text)
            if not write:
                assert response.status_code == 200, response.text
                if route == "validate":
                    assert response.json()["status"] in ("active", "closed")
        elif route == "validate":
            assert response.json() == {"status": "invalid"}, "like an unknown session"
        elif write:
            assert response.status_code == 403 and response.json()["error"] == "forbidden", response.text
        else:
            assert response.status_code == 404, (account, user, route, response.text)

    check()
    audit = client.app.state.accounts.audit
    audited = [r for r in audit.read() if r.account in ACCOUNTS]
    assert len(audited) >= len(seen), "every answered request on a person's data is audited"
    reliability_report.add(
        "Grants: hypothesis over 4 accounts x 3 users x 8 data routes (reads, validate, start, end, capture)",
        len(seen),
        "each answer as the policy decides: no grant → reads 404 like a missing id, writes 403; audited",
    )


def test_a_read_is_audited_with_whose_data_it_was(client: TestClient, world: dict[str, Any]) -> None:
    client.get(f"/session_manager/sessions/{world['sessions']['u2']}", headers=world["tokens"]["rita"])
    client.get(f"/session_manager/sessions/{world['sessions']['u3']}", headers=world["tokens"]["rita"])
    records = [r for r in client.app.state.accounts.audit.read(account="rita")]
    assert [(r.action, r.user_id, r.outcome.value) for r in records[-2:]] == [
        (AuditAction.READ_SESSION, "u2", "ok"),
        (AuditAction.READ_SESSION, None, "not_found"),
    ]
    assert records[-1].object_id == world["sessions"]["u3"] and records[-1].role == Role.RESEARCHER


def _recorded(settings: Settings) -> dict[str, bytes]:
    root = settings.log_root / "users"
    files = {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    files |= {str(p): b"" for p in settings.data_root.rglob("*.npz")}
    return files


def _revoked_token(client: TestClient) -> dict[str, str]:
    headers = other_account(client.app, "gone", Role.CARER, ("u1",))
    service = client.app.state.accounts
    token_id = headers["Authorization"].split("_")[1]
    service.revoke_token(token_id)
    return headers


@pytest.mark.parametrize("refusal", ["no credentials", "foreign origin", "revoked token"])
def test_the_capture_websocket_refuses_before_reading_anything(
    client: TestClient, settings: Settings, world: dict[str, Any], refusal: str
) -> None:
    nobody = anonymous(client)
    if refusal == "foreign origin":
        browser = _login(client, "cara")
        upgrade = lambda: browser.websocket_connect(WS_PATH, headers={"origin": "http://evil.example"})  # noqa: E731
        expected = 403
    elif refusal == "revoked token":
        headers = _revoked_token(client)
        upgrade = lambda: nobody.websocket_connect(WS_PATH, headers=dict(headers))  # noqa: E731
        expected = 401
    else:
        upgrade = lambda: nobody.websocket_connect(WS_PATH, headers={})  # noqa: E731
        expected = 401
    before = _recorded(settings)
    with pytest.raises(WebSocketDenialResponse) as denied:
        with upgrade() as ws:
            ws.send_text(Capture(world["sessions"]["u1"], user_id="u1").open())
    assert denied.value.status_code == expected
    assert denied.value.json()["error"] in ("unauthenticated", "forbidden")
    assert _recorded(settings) == before, "nothing recorded"


def test_a_cookie_upgrade_from_our_own_origin_is_accepted(client: TestClient, world: dict[str, Any]) -> None:
    browser = _login(client, "cara")
    with browser.websocket_connect(WS_PATH, headers={"origin": ORIGIN}) as ws:
        ws.send_text(Capture(world["sessions"]["u2"], user_id="u2").open())  # cara has no grant for u2
        abort = ws.receive_json()
    assert abort["event"] == "capture.abort" and abort["error_code"] == "forbidden"


def test_no_secret_is_stored_or_logged_in_the_clear(
    client: TestClient, settings: Settings, world: dict[str, Any]
) -> None:
    browser = _login(client, "cara")
    browser.get("/session_manager/users/u1/sessions")
    secrets = [OTHER_PASSWORD, browser.cookies["a3cp_session"]]
    secrets += [headers["Authorization"].removeprefix("Bearer ") for headers in world["tokens"].values()]
    for root in (settings.data_root, settings.log_root):
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, (path, secret[:6])
    assert uuid.UUID(world["records"]["u1"])  # the world is real
