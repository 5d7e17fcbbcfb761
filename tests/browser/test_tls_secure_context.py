"""Why TLS matters, and the README's first run in five steps, in real Chromium under a host name that is
not `localhost` (`a3cp.test`, mapped to 127.0.0.1 by --host-resolver-rules; all traffic stays on
loopback). Two real `a3cp serve` processes share one DATA_ROOT: one over http://, one with `--tls` (the
generated certificate, accepted by its SPKI hash).

Over https:// the README's steps are walked exactly: the setup link the server printed → create the
admin → create a carer → grant a person → the carer captures, which records one feature event. Over
http:// the same carer's page is no secure context: no camera API, and the page says the camera needs
HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import re
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout, session_log_path
from a3cp.tls import ensure_local_certificate
from eventstore import read_log
from tests.accounts.test_serve import Served
from tests.browser.conftest import launch_chromium

HOST = "a3cp.test"
ADMIN, ADMIN_PASSWORD = "boss", "admin passphrase 1"
CARER, CARER_PASSWORD = "cara", "carer passphrase 1"
PERSON = "person_1"


def spki_hash(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def servers(settings: Settings) -> Iterator[tuple[Served, Served, Path]]:
    """Plain (ingest role: no capture here) then TLS (all roles: it captures); the TLS one starts last,
    so its printed setup link is the valid one."""
    StorageLayout(settings).ensure_roots()
    files = ensure_local_certificate(settings, HOST)  # serve reuses it: it names a3cp.test and 127.0.0.1
    plain = Served(settings)
    tls: Served | None = None
    try:
        plain.wait(f"http://127.0.0.1:{plain.port}")
        tls = Served(settings, "--tls", "--role", "all")
        tls.wait(
            f"https://127.0.0.1:{tls.port}", verify=ssl.create_default_context(cafile=str(files.ca_cert))
        )
        yield plain, tls, files.cert
    finally:
        for child in (plain, tls):
            if child is not None:
                child.stop(signal.SIGKILL)


@pytest.fixture
def chromium(playwright: object, servers: tuple[Served, Served, Path], person_clip: Path) -> Iterator[object]:
    """Chromium resolving a3cp.test to loopback, trusting only the server's key, with the fake camera."""
    browser = launch_chromium(
        playwright,
        person_clip,
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        f"--ignore-certificate-errors-spki-list={spki_hash(servers[2])}",
    )
    try:
        yield browser
    finally:
        browser.close()


def printed_setup_link(server: Served) -> str:
    found = re.search(r"https://127\.0\.0\.1:\d+(/setup/[A-Za-z0-9_-]+)", server.output())
    assert found is not None, server.output()
    return found.group(1)


def log_in(page, origin: str, account: str, password: str, following: str) -> None:
    page.goto(f"{origin}{following}")  # a page that needs a login sends the browser there and back
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#username", account)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}{following}")


def test_first_run_in_five_steps_over_https_and_why_http_cannot_capture(
    chromium, servers: tuple[Served, Served, Path], settings: Settings
) -> None:
    plain, tls, _ = servers
    secure_origin, plain_origin = f"https://{HOST}:{tls.port}", f"http://{HOST}:{plain.port}"
    browser = chromium
    admin = browser.new_page()  # type: ignore[attr-defined]
    admin.set_default_timeout(20_000)
    # 1. the printed setup link; 2. create the admin there (the browser is then logged in, on /admin)
    response = admin.goto(f"{secure_origin}{printed_setup_link(tls)}")
    assert response is not None and response.ok
    assert admin.evaluate("window.isSecureContext") is True
    assert response.headers["strict-transport-security"].startswith("max-age=")
    admin.fill("#username", ADMIN)
    admin.fill("#password", ADMIN_PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_url(f"{secure_origin}/admin")
    # 3. create a carer; 4. grant them a person
    admin.fill("#new-username", CARER)
    admin.select_option("#new-role", "carer")
    admin.fill("#new-password", CARER_PASSWORD)
    admin.click("#create-account button[type=submit]")
    expect(admin.locator("#admin-status")).to_have_text(f"Created {CARER}.")
    admin.fill("#grant-account", CARER)
    admin.fill("#grant-user", PERSON)
    admin.click("#grant button[type=submit]")
    expect(admin.locator("#admin-status")).to_have_text(f"Granted {PERSON} to {CARER}.")
    admin.context.close()

    # Over plain http:// under a LAN name the carer's page has no camera, and says why.
    insecure = browser.new_page()  # type: ignore[attr-defined]
    log_in(insecure, plain_origin, CARER, CARER_PASSWORD, "/demo/gesture")
    assert insecure.evaluate("window.isSecureContext") is False
    assert insecure.evaluate("typeof navigator.mediaDevices") == "undefined"
    expect(insecure.locator("#https-needed")).to_contain_text("The camera needs HTTPS")
    insecure.context.close()

    # 5. over https:// the carer picks the person and captures: one feature event is recorded.
    carer = browser.new_page()  # type: ignore[attr-defined]
    carer.set_default_timeout(20_000)
    log_in(carer, secure_origin, CARER, CARER_PASSWORD, "/demo/gesture")
    assert carer.evaluate("window.isSecureContext") is True
    expect(carer.locator("#https-needed")).to_be_hidden()
    expect(carer.locator("#who")).to_have_text(f"{CARER} (carer)")
    expect(carer.locator("#person")).to_have_value(PERSON)
    carer.click("#btn-start")
    expect(carer.locator("#session-id")).not_to_have_value("")
    session_id = carer.input_value("#session-id")
    carer.click("#btn-capture")
    expect(carer.locator("#capture-state")).to_have_text("capturing")
    carer.wait_for_timeout(2_000)  # about 2 s of frames (not a timing assertion)
    carer.click("#btn-stop")
    expect(carer.locator("#capture-state")).to_have_text("recorded", timeout=90_000)
    record_id = carer.input_value("#capture-record-id")
    carer.context.close()

    events = read_log(session_log_path(settings, PERSON, session_id)).events
    captured = [e for e in events if e["source"] == "landmark_extractor"]
    assert [e["record_id"] for e in captured] == [record_id]
    assert events[0]["event"] == "session.start" and events[0]["performer_id"] == CARER
