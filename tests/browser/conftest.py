"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real uvicorn server.

The camera is Chromium's fake device playing a .y4m clip made here from scikit-image's astronaut.png
(NASA portrait, public domain), shifted a little per frame, so MediaPipe sees a real face and body.
A missing browser or axe-core skips locally and fails under CI=true (see tests/conftest.py).
The demo pages need a login: `log_in_carer` gives a browser context the cookie of the carer CARER, who is
granted the person USER (the `carer_logged_in` fixture does it for `page`).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import uvicorn

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.config import Settings
from bench.person import portrait_on_canvas
from bench.processes import free_port
from web.app import create_app

CHROMIUM = Path(os.environ.get("A3CP_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CLIP_SIZE = (640, 480)
CLIP_FRAMES = 30
CARER = "cara"
CARER_PASSWORD = "carer passphrase 1"
USER = "demo_user"  # the person (data subject) granted to CARER


def need(condition: bool, why: str) -> None:
    """Skip (locally) or fail (CI=true) when a tool the browser tests need is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI must have it: see .ci/run)")
    pytest.skip(why)


def write_person_clip(path: Path) -> Path:
    """A looping 640x480 15 fps YUV4MPEG2 clip of the astronaut portrait with small shifts."""
    width, height = CLIP_SIZE
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(CLIP_FRAMES):
            dx = int(6 * np.sin(index / CLIP_FRAMES * 2 * np.pi))
            canvas = portrait_on_canvas(width, height, dx)
            out.write(b"FRAME\n" + cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@dataclass
class LiveServer:
    """A uvicorn server on a free loopback port, with its own DATA_ROOT and LOG_ROOT."""

    settings: Settings
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(settings: Settings) -> LiveServer:
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return LiveServer(settings, port, server, thread)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("live")
    settings = Settings(
        data_root=root / "data", log_root=root / "logs", db_url=f"sqlite:///{root / 'projection.sqlite3'}"
    )
    server = start_server(settings)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def person_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_person_clip(tmp_path_factory.mktemp("camera") / "astronaut.y4m")


FAKE_CAMERA_ARGS = (
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def playwright() -> Iterator[object]:
    """The one Playwright of the run: a second sync Playwright cannot start while one runs."""
    need(CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is not None, f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


def launch_chromium(playwright: Any, person_clip: Path, *extra_args: str) -> Any:
    """Debian's Chromium with the fake camera playing `person_clip`, plus `extra_args`."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={person_clip}", *extra_args],
    )


@pytest.fixture(scope="session")
def browser(playwright: object, person_clip: Path) -> Iterator[object]:
    chromium = launch_chromium(playwright, person_clip)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: object, live_server: LiveServer) -> Iterator[object]:
    """A fresh page with camera permission on the live server's origin (CSP bypassed for test probes)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=live_server.url, permissions=["camera"], bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    need(AXE.is_file(), f"axe-core is not installed at {AXE} (run `npm ci`)")
    return AXE.read_text(encoding="utf-8")


def ensure_carer(settings: Settings) -> None:
    """The carer CARER with a grant for USER, created once per data root."""
    accounts = AccountService.build(settings)
    if accounts.state().account(CARER) is None:
        accounts.create_account(CARER, Role.CARER, CARER_PASSWORD)
        accounts.grant(CARER, USER)


def log_in_carer(context: object, server: LiveServer) -> None:
    """Log the browser context in as CARER (POST /auth/login from the context: its cookie jar keeps it)."""
    ensure_carer(server.settings)
    response = context.request.post(  # type: ignore[attr-defined]
        f"{server.url}/auth/login", data={"username": CARER, "password": CARER_PASSWORD}
    )
    assert response.ok, response.text()


@pytest.fixture
def carer_logged_in(page: object, live_server: LiveServer) -> None:
    log_in_carer(page.context, live_server)  # type: ignore[attr-defined]
