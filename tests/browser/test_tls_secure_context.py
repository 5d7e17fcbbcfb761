"""Why TLS matters, in real Chromium under a host name that is not `localhost` (`a3cp.test`, mapped to
127.0.0.1 by --host-resolver-rules; all traffic stays on loopback): over http:// the page is not a secure
context (so a browser would refuse the camera), over https:// with the server certificate accepted by its
SPKI hash it is. The capture half of this check arrives with the protected demo pages (issue 16, wave 2)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from a3cp.tls import ensure_local_certificate
from tests.accounts.test_serve import Served
from tests.browser.conftest import CHROMIUM, need

HOST = "a3cp.test"


def spki_hash(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def servers(settings: Settings) -> Iterator[tuple[Served, Served, Path]]:
    StorageLayout(settings).ensure_roots()
    files = ensure_local_certificate(settings, HOST)  # serve reuses it: it names a3cp.test and 127.0.0.1
    plain, tls = Served(settings), Served(settings, "--tls")
    try:
        plain.wait(f"http://127.0.0.1:{plain.port}")
        tls.wait(
            f"https://127.0.0.1:{tls.port}", verify=ssl.create_default_context(cafile=str(files.ca_cert))
        )
        yield plain, tls, files.cert
    finally:
        for child in (plain, tls):
            child.stop(signal.SIGKILL)


def test_secure_context_only_over_https_under_a_lan_name(servers: tuple[Served, Served, Path]) -> None:
    need(CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is not None, f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    plain, tls, cert = servers
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
                f"--ignore-certificate-errors-spki-list={spki_hash(cert)}",
                "--disable-background-networking",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"http://{HOST}:{plain.port}/login")
            assert page.evaluate("window.isSecureContext") is False
            assert page.evaluate("typeof navigator.mediaDevices") == "undefined"  # no camera API at all
            response = page.goto(f"https://{HOST}:{tls.port}/login")
            assert response is not None and response.ok
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("typeof navigator.mediaDevices.getUserMedia") == "function"
            assert response.headers["strict-transport-security"].startswith("max-age=")
        finally:
            browser.close()
