"""Real `a3cp serve` processes on 127.0.0.1: HTTPS with the generated local CA (also as the containers turn
it on: A3CP_TLS, A3CP_TLS_NAMES, and their health probe), the first-run setup link (A3CP_LINK_HOST), and
the audit record of an answered request surviving a SIGKILL right after the answer.

The servers run the ingest role (no MediaPipe import: they start fast); the routes tested are the same.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from a3cp.accounts.policy import Role
from a3cp.accounts.service import AccountService
from a3cp.config import Settings
from a3cp.storage_layout import StorageLayout
from bench.client import START, request_body
from bench.processes import READY_WAIT_S, free_port
from tests.accounts.conftest import CARER_PASSWORD, PASSWORD

REPO = Path(__file__).resolve().parents[2]


class Served:
    """One `a3cp serve` child; its stdout and stderr go to a file the test reads."""

    def __init__(self, settings: Settings, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = settings.data_root.parent / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            **(env or {}),
            "DATA_ROOT": str(settings.data_root),
            "LOG_ROOT": str(settings.log_root),
            "A3CP_DB_URL": settings.db_url,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
        argv = [sys.executable, "-m", "a3cp.cli", "serve", "--role", "ingest", "--host", "127.0.0.1"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*argv, "--port", str(self.port), *extra], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, url: str, **client: object) -> None:
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited early:\n{self.output()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0, **client).status_code == 200:  # type: ignore[arg-type]
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"serve not ready:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


@pytest.fixture
def served(settings: Settings) -> Iterator[list[Served]]:
    StorageLayout(settings).ensure_roots()
    children: list[Served] = []
    yield children
    for child in children:
        child.stop(signal.SIGKILL)


def test_https_with_the_generated_ca(settings: Settings, served: list[Served]) -> None:
    server = Served(settings, "--tls")
    served.append(server)
    ca_file = settings.data_root / "tls" / "ca.pem"
    deadline = time.monotonic() + READY_WAIT_S
    while "TLS: CA SHA-256" not in server.output() and time.monotonic() < deadline:  # printed once made
        time.sleep(0.1)
    trust_only_ca = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    trust_only_ca.load_verify_locations(cafile=str(ca_file))  # no system roots: only our CA
    url = f"https://127.0.0.1:{server.port}"
    server.wait(url, verify=trust_only_ca)
    for host in (url, f"https://localhost:{server.port}"):
        answer = httpx.get(f"{host}/healthz", verify=trust_only_ca, timeout=5.0)
        assert answer.status_code == 200 and answer.headers["strict-transport-security"].startswith("max-age")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=5.0)  # the system trust store does not know our CA

    output = server.output()
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    fingerprint = ca.fingerprint(ca.signature_hash_algorithm).hex(":").upper()  # type: ignore[arg-type]
    assert str(ca_file) in output and fingerprint in output and "tablet" in output
    link = re.search(r"https://127\.0\.0\.1:\d+/setup/[A-Za-z0-9_-]+", output)
    assert link is not None, output
    assert httpx.get(link.group(0), verify=trust_only_ca, timeout=5.0).status_code == 200

    cert = x509.load_pem_x509_certificate((settings.data_root / "tls" / "server.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=825, minutes=5)
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)

    server.stop()
    again = Served(settings, "--tls")  # a second start reuses the CA the tablets already trust
    served.append(again)
    again.wait(f"https://127.0.0.1:{again.port}", verify=trust_only_ca)
    assert x509.load_pem_x509_certificate(ca_file.read_bytes()) == ca


def _health_probe(server: Served, tls: str) -> int:
    """The containers' HEALTHCHECK (`python -m a3cp.healthcheck PORT`) against `server`, with A3CP_TLS=tls."""
    env = {**server.env, "A3CP_TLS": tls}
    probe = [sys.executable, "-m", "a3cp.healthcheck", str(server.port)]
    return subprocess.run(probe, env=env, capture_output=True, timeout=30).returncode


def test_tls_from_the_environment_names_the_extra_hosts_and_the_probe_follows_it(
    settings: Settings, served: list[Served]
) -> None:
    # as docker-compose.yml sets them: the setup link names the host a user opens, not this machine
    tls_env = {"A3CP_TLS": "1", "A3CP_TLS_NAMES": "a3cp-box.lan, 192.0.2.7", "A3CP_LINK_HOST": "a3cp-box.lan"}
    server = Served(settings, env=tls_env)
    served.append(server)
    trust_only_ca = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    deadline = time.monotonic() + READY_WAIT_S
    while "TLS: CA SHA-256" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    trust_only_ca.load_verify_locations(cafile=str(settings.data_root / "tls" / "ca.pem"))
    server.wait(f"https://127.0.0.1:{server.port}", verify=trust_only_ca)

    cert = x509.load_pem_x509_certificate((settings.data_root / "tls" / "server.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "a3cp-box.lan" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("192.0.2.7") in sans.get_values_for_type(x509.IPAddress)
    assert _health_probe(server, "1") == 0
    assert _health_probe(server, "0") == 1  # plain HTTP to a TLS port: not healthy
    assert re.search(rf"https://a3cp-box\.lan:{server.port}/setup/[A-Za-z0-9_-]+", server.output())

    server.stop()
    plain = Served(settings)
    served.append(plain)
    plain.wait(f"http://127.0.0.1:{plain.port}")
    assert _health_probe(plain, "0") == 0
    assert _health_probe(plain, "1") == 1


def test_a_tls_name_that_is_no_host_name_is_refused(settings: Settings) -> None:
    from a3cp.tls import ensure_local_certificate

    with pytest.raises(ValueError, match="'no/such host' is neither a host name nor an IP address"):
        ensure_local_certificate(settings, "127.0.0.1", ["no/such host"])
    assert not (settings.data_root / "tls").exists()


def test_audit_record_of_an_answered_request_survives_sigkill(
    settings: Settings, served: list[Served]
) -> None:
    StorageLayout(settings).ensure_roots()
    accounts = AccountService.build(settings)
    accounts.create_account("boss", Role.ADMIN, PASSWORD)
    accounts.create_account("cara", Role.CARER, CARER_PASSWORD)
    accounts.grant("cara", "u1")
    server = Served(settings)
    served.append(server)
    url = f"http://127.0.0.1:{server.port}"
    server.wait(url)
    origin = {"Origin": url}
    with httpx.Client(base_url=url, headers=origin, timeout=10.0) as client:
        failed = client.post("/auth/login", json={"username": "cara", "password": "not the password"})
        assert failed.status_code == 401
        done = client.post("/auth/login", json={"username": "cara", "password": CARER_PASSWORD})
        assert done.status_code == 200
        started = client.post(START, json=request_body("u1", performer_id="cara"))  # by the login cookie
        assert started.status_code == 201, started.text
        assert client.get("/session_manager/users/u1/sessions").status_code == 200
        server.stop(signal.SIGKILL)  # right after the answer: nothing may be flushed later
    trail = [
        (r.action, r.outcome, r.account) for r in AccountService.build(settings).audit.read(account="cara")
    ]
    assert trail[-4:] == [
        ("login_failed", "failed", "cara"),
        ("login", "ok", "cara"),
        ("session_start", "ok", "cara"),
        ("read_user_sessions", "ok", "cara"),
    ]
    output = server.output()
    assert CARER_PASSWORD not in output and "not the password" not in output
