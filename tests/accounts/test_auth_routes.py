"""The web side: login/logout/setup routes, cookie flags, CSRF, the admin API and /audit, over TestClient."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from a3cp.accounts.service import AccountService
from tests.accounts.conftest import CARER_PASSWORD, ORIGIN, PASSWORD, SAME_ORIGIN, login
from web.app import ACCOUNT_ROUTE_MODULES, openapi_document
from web.auth import SECURITY_SCHEMES, websocket_principal
from web.routes import admin

ADMIN_ROUTES = [
    ("GET", "/admin/api/accounts", None),
    ("POST", "/admin/api/accounts", {"username": "neo", "role": "carer", "password": PASSWORD}),
    ("POST", "/admin/api/accounts/cara/grants", {"user_id": "u9"}),
    ("DELETE", "/admin/api/accounts/cara/grants/u1", None),
    ("POST", "/admin/api/accounts/rita/disable", None),
    ("GET", "/admin/api/sessions", None),
    ("DELETE", "/admin/api/sessions/0123456789abcdef", None),
    ("GET", "/audit", None),
]


def _cookie_header(client: TestClient, username: str, password: str) -> str:
    response = client.post(
        "/auth/login", json={"username": username, "password": password}, headers=SAME_ORIGIN
    )
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"]


def test_login_sets_a_strict_httponly_cookie_without_secure_over_http(
    app_client: TestClient, people: AccountService
) -> None:
    cookie = _cookie_header(app_client, "cara", CARER_PASSWORD)
    assert cookie.startswith("a3cp_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 22  # ≥ 128 bits of URL-safe base64


def test_cookie_is_secure_over_tls_and_hsts_only_then(settings: object, people: AccountService) -> None:
    from web.app import create_app

    app = create_app(settings)  # type: ignore[arg-type]
    app.state.accounts = people
    with TestClient(app, base_url="https://a3cp.test") as tls_client:
        response = tls_client.post(
            "/auth/login",
            json={"username": "cara", "password": CARER_PASSWORD},
            headers={"Origin": "https://a3cp.test"},
        )
        assert response.status_code == 200, response.text
        assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}
        assert response.headers["strict-transport-security"].startswith("max-age=")
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers


def test_whoami_with_cookie_with_token_and_without(app_client: TestClient, people: AccountService) -> None:
    assert app_client.get("/auth/me").status_code == 401
    body = app_client.get("/auth/me").json()
    assert body["error"] == "unauthenticated" and body["fields"] == []
    token, _ = people.issue_token("rita")
    by_token = app_client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert by_token.json() == {"account": "rita", "role": "researcher", "granted_users": ["u2"]}
    assert app_client.get("/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    login(app_client, "cara", CARER_PASSWORD)
    assert app_client.get("/auth/me").json() == {"account": "cara", "role": "carer", "granted_users": ["u1"]}


def test_wrong_password_is_401_naming_the_field(app_client: TestClient, people: AccountService) -> None:
    response = app_client.post(
        "/auth/login", json={"username": "cara", "password": "wrong password!"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 401 and response.json()["fields"][0]["field"] == "password"
    assert "set-cookie" not in response.headers
    missing = app_client.post("/auth/login", json={"username": "cara"}, headers=SAME_ORIGIN)
    assert missing.status_code == 400 and missing.json()["fields"][0]["field"] == "password"


def test_repeated_failures_answer_429_with_retry_after(
    app_client: TestClient, people: AccountService
) -> None:
    for _ in range(people.credentials.limits.max_failures):
        bad = {"username": "cara", "password": "wrong password!"}
        assert app_client.post("/auth/login", json=bad, headers=SAME_ORIGIN).status_code == 401
    good = {"username": "cara", "password": CARER_PASSWORD}
    throttled = app_client.post("/auth/login", json=good, headers=SAME_ORIGIN)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"] == "too_many_attempts"


def test_form_login_redirects_back_and_a_failure_rerenders_the_page(
    app_client: TestClient, people: AccountService
) -> None:
    form = {"username": "cara", "password": CARER_PASSWORD, "next": "/demo/sessions"}
    done = app_client.post("/auth/login", data=form, headers=SAME_ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/demo/sessions"
    evil = {**form, "next": "//evil.example/x"}
    assert (
        app_client.post("/auth/login", data=evil, headers=SAME_ORIGIN, follow_redirects=False).headers[
            "location"
        ]
        == "/demo/gesture"
    )
    failed = app_client.post("/auth/login", data={**form, "password": "nope nope nope"}, headers=SAME_ORIGIN)
    assert failed.status_code == 401 and 'role="alert"' in failed.text
    assert 'value="/demo/sessions"' in failed.text


def test_login_page_is_a_labelled_form(app_client: TestClient) -> None:
    page = app_client.get("/login?next=/demo/gesture%22%3E%3Cscript%3E")
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert "<script>" not in page.text  # next is escaped
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_logout_ends_the_session_on_the_server(app_client: TestClient, people: AccountService) -> None:
    login(app_client, "cara", CARER_PASSWORD)
    cookie = app_client.cookies.get("a3cp_session")
    assert app_client.post("/auth/logout", headers=SAME_ORIGIN).json() == {"logged_out": True}
    app_client.cookies.set("a3cp_session", cookie)  # the old cookie, replayed
    assert app_client.get("/auth/me").status_code == 401
    assert [r.action for r in people.audit.read(account="cara")][-2:] == ["login", "logout"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": ORIGIN},
        {},  # a cookie-authenticated change must prove it is same-origin
    ],
)
def test_cross_origin_cookie_post_is_refused(
    app_client: TestClient, people: AccountService, headers: dict[str, str]
) -> None:
    login(app_client, "boss", PASSWORD)
    body = {"username": "neo", "role": "carer", "password": PASSWORD}
    refused = app_client.post("/admin/api/accounts", json=body, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert people.state().account("neo") is None
    assert app_client.post("/auth/logout", headers=headers).status_code == 403


def test_same_origin_cookie_post_is_accepted_and_forms_are_not(
    app_client: TestClient, people: AccountService
) -> None:
    login(app_client, "boss", PASSWORD)
    body = {"username": "neo", "role": "carer", "password": PASSWORD}
    as_form = app_client.post("/admin/api/accounts", data=body, headers=SAME_ORIGIN)
    assert as_form.status_code == 403
    created = app_client.post("/admin/api/accounts", json=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "neo"
    assert app_client.post("/admin/api/accounts", json=body, headers=SAME_ORIGIN).status_code == 409


def test_a_token_needs_no_origin(app_client: TestClient, people: AccountService) -> None:
    token, _ = people.issue_token("boss")
    response = app_client.post(
        "/admin/api/accounts/cara/grants",
        json={"user_id": "u7"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json()["grants"] == ["u1", "u7"]
    grant = [r for r in people.audit.read() if r.action == "grant_added" and r.user_id == "u7"]
    assert grant and grant[0].account == "boss" and grant[0].role == "admin"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_an_admin(
    app_client: TestClient, people: AccountService, method: str, path: str, body: object
) -> None:
    anonymous = app_client.request(method, path, json=body, headers=SAME_ORIGIN)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthenticated"
    for name in ("cara", "rita"):
        token, _ = people.issue_token(name)
        refused = app_client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    admin_token, _ = people.issue_token("boss")
    answered = app_client.request(method, path, json=body, headers={"Authorization": f"Bearer {admin_token}"})
    assert answered.status_code in {200, 201, 404}, answered.text  # 404: the made-up session handle


def test_admin_lists_and_ends_login_sessions(app_client: TestClient, people: AccountService) -> None:
    carer = people.login("cara", CARER_PASSWORD, "10.0.0.5")
    login(app_client, "boss", PASSWORD)
    sessions = app_client.get("/admin/api/sessions").json()["sessions"]
    handle = next(s["handle"] for s in sessions if s["account"] == "cara")
    assert carer.session_id not in str(sessions)
    left = app_client.delete(f"/admin/api/sessions/{handle}", headers=SAME_ORIGIN)
    assert left.status_code == 200 and "cara" not in {s["account"] for s in left.json()["sessions"]}
    assert people.principal_for_session(carer.session_id) is None
    accounts = app_client.get("/admin/api/accounts").json()["accounts"]
    assert {a["name"]: a["grants"] for a in accounts} == {"boss": [], "cara": ["u1"], "rita": ["u2"]}


def test_audit_route_filters(app_client: TestClient, people: AccountService) -> None:
    people.login("cara", CARER_PASSWORD, "10.0.0.5")
    token, _ = people.issue_token("boss")
    auth = {"Authorization": f"Bearer {token}"}
    everything = app_client.get("/audit", headers=auth).json()["records"]
    assert {"account_created", "grant_added", "login", "token_issued"} <= {r["action"] for r in everything}
    about_u1 = app_client.get("/audit?user=u1", headers=auth).json()["records"]
    assert about_u1 and all(r["user_id"] == "u1" for r in about_u1)
    of_cara = app_client.get("/audit?account=cara", headers=auth).json()["records"]
    assert [r["action"] for r in of_cara] == ["login"]
    assert app_client.get("/audit?since=2100-01-01", headers=auth).json()["records"] == []
    bad = app_client.get("/audit?since=yesterday", headers=auth)
    assert bad.status_code == 400 and bad.json()["fields"][0]["field"] == "since"


def test_admin_page_redirects_to_login_and_back(app_client: TestClient, people: AccountService) -> None:
    away = app_client.get("/admin", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/login?next=/admin"
    login(app_client, "cara", CARER_PASSWORD)
    assert app_client.get("/admin").status_code == 403
    app_client.cookies.clear()
    login(app_client, "boss", PASSWORD)
    page = app_client.get("/admin")
    assert page.status_code == 200 and "/static/js/admin.js" in page.text


def test_setup_link_creates_the_first_admin_in_the_browser(
    app_client: TestClient, accounts: AccountService
) -> None:
    secret = accounts.issue_setup_link()
    assert app_client.get("/setup/not-the-secret").status_code == 404
    page = app_client.get(f"/setup/{secret}")
    assert page.status_code == 200 and 'minlength="12"' in page.text
    short = app_client.post(
        f"/setup/{secret}", data={"username": "boss", "password": "short"}, headers=SAME_ORIGIN
    )
    assert short.status_code == 400 and accounts.state().accounts == {}
    done = app_client.post(
        f"/setup/{secret}",
        data={"username": "boss", "password": PASSWORD},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin"
    assert app_client.get("/auth/me").json()["role"] == "admin"  # logged in as the new admin
    again = app_client.post(
        f"/setup/{secret}", json={"username": "eve", "password": PASSWORD}, headers=SAME_ORIGIN
    )
    assert again.status_code == 404 and accounts.state().account("eve") is None


def test_openapi_declares_the_security_schemes(app_client: TestClient) -> None:
    served = app_client.get("/openapi.json").json()
    assert served["components"]["securitySchemes"] == SECURITY_SCHEMES
    document = openapi_document(ACCOUNT_ROUTE_MODULES)
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "a3cp_session"}
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/audit"]["get"]["security"] == [{"cookieAuth": []}, {"bearerAuth": []}]
    assert document["paths"]["/auth/login"]["post"].get("security") is None
    for op in admin.operations:
        assert {"401", "403"} <= set(document["paths"][op.path][op.method.lower()]["responses"])


def _websocket_app(accounts: AccountService) -> Starlette:
    """A capture-like WebSocket endpoint guarded the way wave 2 guards /ws/capture."""

    async def endpoint(websocket: WebSocket) -> None:
        principal, reason = await websocket_principal(websocket)
        if principal is None:
            await websocket.close(code=1008, reason=reason)
            return
        await websocket.accept()
        recorded.append(principal.account)
        await websocket.send_json({"account": principal.account})
        await websocket.close()

    recorded: list[str] = []
    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    app.state.accounts = accounts
    app.state.recorded = recorded
    return app


def test_websocket_upgrade_needs_credentials_and_our_origin_for_cookies(people: AccountService) -> None:
    app = _websocket_app(people)
    token, state = people.issue_token("cara")
    cookie = people.login("cara", CARER_PASSWORD, "testclient").session_id
    client = TestClient(app)
    refusals = [
        {},  # no credentials
        {"Cookie": f"a3cp_session={cookie}", "Origin": "https://evil.example"},  # a foreign page
        {"Cookie": f"a3cp_session={cookie}"},  # a cookie without Origin
    ]
    for headers in refusals:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/ws", headers=headers) as ws,
        ):
            ws.receive_json()
        assert closed.value.code == 1008
    with client.websocket_connect(
        "/ws", headers={"Cookie": f"a3cp_session={cookie}", "Origin": ORIGIN}
    ) as ws:
        assert ws.receive_json() == {"account": "cara"}
    with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
        assert ws.receive_json() == {"account": "cara"}
    people.revoke_token(state.token_id)
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"Authorization": f"Bearer {token}"}) as ws,
    ):
        ws.receive_json()
    assert app.state.recorded == ["cara", "cara"]  # nothing recorded for any refused upgrade
