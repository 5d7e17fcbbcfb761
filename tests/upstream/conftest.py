"""Fixtures for speaking to the service as upstream A3CP's page does.

`page_client` is the client the page's requests go through. Today it is the plain app client; with
accounts on it must be a client logged in by cookie on our own origin (the page sends no extra
headers: same-origin fetches carry the cookie and `Origin`, the WebSocket likewise), so that is the
one fixture to swap. `live_server` runs the app in a real uvicorn server for what TestClient cannot
show (a client that closes the socket while the server still answers).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import cv2
import pytest
import uvicorn
from starlette.testclient import TestClient

from a3cp.config import Settings
from bench.person import portrait_on_canvas
from bench.processes import free_port
from web.app import create_app

FRAMES = 16  # 16 x 150 ms = 2.4 s: over our 2 s minimum capture


@pytest.fixture
def upstream_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, ws_session_recheck_s=0.0)


@pytest.fixture
def page_client(upstream_settings: Settings) -> Iterator[TestClient]:
    """The client upstream's page uses (see the module docstring for accounts)."""
    with TestClient(create_app(upstream_settings)) as client:
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
    config = uvicorn.Config(create_app(upstream_settings), host="127.0.0.1", port=port, log_level="warning")
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
