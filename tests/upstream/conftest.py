"""Fixtures for speaking to the service as upstream A3CP's page does.

`page_client` is the client the page's requests go through: logged in BY COOKIE on our own origin
(POST /auth/login, cookie `a3cp_session`) as the carer `demo_user` (PAGE_ACCOUNT, the performer the
page's requests name), granted every user these tests speak about. It sends no token, only what a
browser adds to a same-origin request: the cookie and `Origin` (so state changes pass CSRF, and the
WebSocket upgrade carries our origin). `live_server` runs the app in a real uvicorn server for what
TestClient cannot show (a client that closes the socket while the server still answers); its
WebSocket upgrade sends the same cookie with an `Origin` naming that server (`browser_headers`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import cv2
import pytest
import uvicorn
from starlette.testclient import TestClient

from a3cp.accounts.policy import Role
from a3cp.config import Settings
from bench.person import portrait_on_canvas
from bench.processes import free_port
from tests.fixtures.accounts import FIXTURE_PASSWORD, account_service, ensure_account
from web.app import create_app
from web.auth import SESSION_COOKIE

from .shapes import PAGE_ACCOUNT  # the carer logged in on the page: every recorded performer_id

FRAMES = 16  # 16 x 150 ms = 2.4 s: over our 2 s minimum capture
PAGE_ORIGIN = "http://testserver"  # TestClient's origin: what the page's same-origin requests send
# the users these tests record for (each granted to PAGE_ACCOUNT)
PAGE_USERS = ("demo_user", "test_user", "someone_else", "carer_user", "other_user", "u")


@contextlib.contextmanager
def logged_in_page(app: Any, **options: Any) -> Iterator[TestClient]:
    """A running TestClient on `app` logged in by cookie as PAGE_ACCOUNT (a carer granted PAGE_USERS),
    sending `Origin` as a browser does on our origin."""
    service = app.state.accounts = account_service(app.state.services.settings)
    ensure_account(service, PAGE_ACCOUNT, Role.CARER, FIXTURE_PASSWORD)
    for user_id in PAGE_USERS:
        service.grant(PAGE_ACCOUNT, user_id)
    with TestClient(app, headers={"Origin": PAGE_ORIGIN}, **options) as client:
        answer = client.post("/auth/login", json={"username": PAGE_ACCOUNT, "password": FIXTURE_PASSWORD})
        assert answer.status_code == 200 and SESSION_COOKIE in client.cookies, answer.text
        assert "authorization" not in client.headers  # the cookie alone authenticates
        yield client


def browser_headers(client: TestClient, origin: str) -> dict[str, str]:
    """What a browser sends on a WebSocket upgrade from the page at `origin`: its cookie and Origin."""
    return {"Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}", "Origin": origin}


@pytest.fixture
def upstream_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, ws_session_recheck_s=0.0)


@pytest.fixture
def page_client(upstream_settings: Settings) -> Iterator[TestClient]:
    """The client upstream's page uses: logged in by cookie as PAGE_ACCOUNT (see the module docstring)."""
    with logged_in_page(create_app(upstream_settings)) as client:
        yield client


@pytest.fixture(scope="session")
def camera_frames() -> list[bytes]:
    """640x480 JPEGs (quality 85, as the page's canvas.toBlob) of a real person moving slightly."""
    frames = []
    for index in range(FRAMES):
        ok, encoded = cv2.imencode(
            ".jpg", portrait_on_canvas(640, 480, (index % 5) * 3 - 6), [cv2.IMWRITE_JPEG_QUALITY, 85]
        )
        assert ok
        frames.append(encoded.tobytes())
    return frames


@pytest.fixture
def live_server(upstream_settings: Settings) -> Iterator[str]:
    """The app behind a real uvicorn server on a loopback port; yields its base URL (http://...)."""
    port = free_port()
    app = create_app(upstream_settings)
    app.state.accounts = account_service(upstream_settings)  # the same credentials store as page_client's
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
