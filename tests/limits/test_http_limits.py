"""HTTP limits against a real `a3cp serve` on loopback, with short limits set from the environment: a
slowloris head, an oversize head (incomplete and complete), a stalled body, a too-slow body and too many
connections from one address are each answered (408 / 431 / 503) and closed within the documented time,
while /healthz keeps answering."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bench.client import PERFORMER
from bench.processes import ServerProcess, free_port, provision, split_env

HEAD_TIMEOUT_S = 1.0
BODY_IDLE_S = 1.0
RATE_GRACE_S = 1.0
MIN_RATE = 2000
PER_CLIENT = 4
SLACK_S = 1.5  # scheduling slack on a shared 2-core machine
CAPTURES = "/camera_feed_worker/captures"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """The server, and the carer's headers (provisioned on its roots before it starts): the uploads
    authenticate, so that the limit under test is what answers, not a 401."""
    root = tmp_path_factory.mktemp("limits")
    env = split_env(root / "data", root / "logs", 1)
    env.update(
        A3CP_HEAD_TIMEOUT_S=str(HEAD_TIMEOUT_S),
        A3CP_BODY_IDLE_TIMEOUT_S=str(BODY_IDLE_S),
        A3CP_UPLOAD_RATE_GRACE_S=str(RATE_GRACE_S),
        A3CP_MIN_UPLOAD_BYTES_PER_S=str(MIN_RATE),
        A3CP_MAX_CONNECTIONS_PER_CLIENT=str(PER_CLIENT),
    )
    headers = provision(env, PERFORMER)
    process = ServerProcess("all", free_port(), env, root / "serve.log").start()
    try:
        yield process, headers
    finally:
        process.stop()


@pytest.fixture(scope="module")
def server(stack: tuple[ServerProcess, dict[str, str]]) -> ServerProcess:
    return stack[0]


@pytest.fixture(scope="module")
def headers(stack: tuple[ServerProcess, dict[str, str]]) -> dict[str, str]:
    return stack[1]


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def answer(sock: socket.socket) -> tuple[int, bytes, float]:
    """Read until the server closes: (status, raw response, seconds it took)."""
    started = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return int(data.split(b" ", 2)[1]), data, time.monotonic() - started


def head(path: str = CAPTURES, **extra: Any) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart_head(length: int, headers: dict[str, str]) -> bytes:
    return head(**{"Content-Type": "multipart/form-data; boundary=b", "Content-Length": length, **headers})


BODY_START = b'--b\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{"schema_version": '


def healthy(server: ServerProcess) -> bool:
    return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200


def test_slowloris_head_is_408_and_closed(server: ServerProcess, reliability_report: Any) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        try:
            for _ in range(20):  # one header line every 0.2 s, never the blank line
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.2)
        except OSError:
            pass  # closed by the server: what the test wants
        status, data, _ = answer(sock)
        took = time.monotonic() - started
    assert status == 408 and b"request_timeout" in data, data
    assert took < HEAD_TIMEOUT_S + SLACK_S
    assert healthy(server)
    reliability_report.add(
        "slowloris: a request head trickled one header line every 0.2 s",
        1,
        f"408 request_timeout and closed after {took:.1f} s (limit {HEAD_TIMEOUT_S:g} s)",
    )


@pytest.mark.parametrize("complete", [False, True])
def test_oversize_head_is_431_and_closed(
    server: ServerProcess, complete: bool, reliability_report: Any
) -> None:
    big = "x" * (20 * 1024)
    request = (
        head("/healthz", **{"X-Big": big}) if complete else f"GET /healthz HTTP/1.1\r\nX-Big: {big}".encode()
    )
    with connect(server) as sock:
        sock.sendall(request)
        status, data, took = answer(sock)
    assert status == 431 and b"request_head_too_large" in data, data
    assert healthy(server)
    reliability_report.add(
        f"a 20 KiB request head ({'complete' if complete else 'never finished'})",
        1,
        f"431 request_head_too_large and closed after {took:.1f} s",
    )


def test_stalled_body_is_408_and_closed(
    server: ServerProcess, headers: dict[str, str], reliability_report: Any
) -> None:
    with connect(server) as sock:
        sock.sendall(multipart_head(100_000, headers) + BODY_START)
        status, data, took = answer(sock)
    assert status == 408 and b"request_timeout" in data, data
    assert took < BODY_IDLE_S + SLACK_S
    reliability_report.add(
        "an upload that sends its head and the start of the meta part, then nothing",
        1,
        f"408 request_timeout and closed after {took:.1f} s (limit {BODY_IDLE_S:g} s)",
    )


def test_too_slow_body_is_cut(
    server: ServerProcess, headers: dict[str, str], reliability_report: Any
) -> None:
    with connect(server) as sock:
        sock.sendall(multipart_head(100_000, headers) + BODY_START)
        started = time.monotonic()
        try:
            for _ in range(50):  # 10 bytes every 0.2 s: 50 bytes/s, far under the minimum rate
                sock.sendall(b"0123456789")
                time.sleep(0.2)
        except OSError:
            pass
        status, data, _ = answer(sock)
        took = time.monotonic() - started
    assert status == 408 and b"slower than" in data, data
    assert took < RATE_GRACE_S + SLACK_S
    reliability_report.add(
        "an upload trickling 50 bytes/s",
        1,
        f"408 request_timeout and closed after {took:.1f} s "
        f"(minimum {MIN_RATE} bytes/s after {RATE_GRACE_S:g} s)",
    )


def test_connections_per_client_are_capped(server: ServerProcess, reliability_report: Any) -> None:
    held = [connect(server) for _ in range(PER_CLIENT)]
    try:
        time.sleep(0.2)
        with connect(server) as extra:
            status, data, took = answer(extra)
        assert status == 503 and b"too_many_connections" in data, data
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert healthy(server)
    reliability_report.add(
        f"{PER_CLIENT + 1} idle connections from one address",
        1,
        f"the one past {PER_CLIENT} answered 503 too_many_connections and closed at once; "
        "the held ones were closed by the head timeout",
    )
