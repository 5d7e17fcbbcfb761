"""Disk full: a write that fails with ENOSPC answers 507 JSON, leaves the log as it was, and the
service works again once space returns.

Two ways to run out of space: an injected writer (the recorder's `os.write` writes part of the line,
then fails with ENOSPC, exactly as a filling disk does) and, where the machine lets us mount, a
real 256 KiB tmpfs as LOG_ROOT filled to the last byte.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from events import make_event
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.storage_layout import iter_session_logs, session_log_path
from bench.client import END, START, request_body
from eventstore import append_event, read_log, recorder
from tests.fixtures.accounts import signed_in_client
from web.app import create_app

pytestmark = pytest.mark.fast

TMPFS_FAULT = "ENOSPC on a real, full 256 KiB tmpfs LOG_ROOT"


def failing_os(fail_after: int, error: int = errno.ENOSPC) -> types.SimpleNamespace:
    """The `os` module as the recorder sees it, except that `write` writes the first `fail_after`
    bytes of its payload and then fails with `error`."""

    def write(fd: int, data: bytes) -> int:
        if 0 < fail_after < len(data):
            os.write(fd, bytes(data[:fail_after]))
        raise OSError(error, os.strerror(error))

    return types.SimpleNamespace(**{name: getattr(os, name) for name in dir(os)} | {"write": write})


def assert_disk_full_answer(response, status: int = 507, error: str = "insufficient_storage") -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert "Traceback" not in response.text


def assert_logs_clean(settings: Settings) -> int:
    """Every session log reads with no torn line; the number of events in all of them."""
    reads = [read_log(path) for path in iter_session_logs(settings)]
    assert all(read.torn == [] for read in reads)
    return sum(len(read.events) for read in reads)


@pytest.mark.parametrize("fail_after", [0, 10, 200])
def test_a_failed_append_leaves_the_log_as_it_was(tmp_path: Path, monkeypatch, fail_after: int) -> None:
    log = tmp_path / "s.log"
    append_event(log, make_event(n=1))
    before = log.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(recorder, "os", failing_os(fail_after))
        with pytest.raises(OSError) as caught:
            append_event(log, make_event(n=2))
    assert caught.value.errno == errno.ENOSPC and log.read_bytes() == before
    append_event(log, make_event(n=3))
    read = read_log(log)
    assert [e["n"] for e in read.events] == [1, 3] and read.torn == []


def test_injected_write_failures_over_http(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, reliability_report
) -> None:
    session_id = client.post(START, json=request_body()).json()["session_id"]
    log = session_log_path(settings, "elias01", session_id)
    before = log.read_bytes()
    end, new_start = request_body(session_id=session_id), request_body()
    faults = [(errno.ENOSPC, 507, "insufficient_storage"), (errno.EIO, 500, "storage_error")]
    attempts: dict[int, int] = {}
    with monkeypatch.context() as patch:
        for error, status, code in faults:
            for fail_after in (0, 10, 200):
                patch.setattr(recorder, "os", failing_os(fail_after, error))
                assert_disk_full_answer(client.post(END, json=end), status, code)
                assert_disk_full_answer(client.post(START, json=new_start), status, code)
                attempts[error] = attempts.get(error, 0) + 2
    assert log.read_bytes() == before
    assert assert_logs_clean(settings) == 1

    assert client.post(END, json=end).status_code == 200  # the same requests, retried once space is back
    assert client.post(START, json=new_start).status_code == 201
    assert assert_logs_clean(settings) == 3
    for error, status, code in faults:
        reliability_report.add(
            f"{errno.errorcode[error]} injected into the recorder's write (0, 10 or 200 bytes written first)",
            attempts[error],
            f"{attempts[error]} x {status} {code} JSON (start and end), no stack trace, log bytes "
            "unchanged, no torn line; the same requests succeeded once the fault cleared",
        )


@contextmanager
def tiny_tmpfs(where: Path) -> Iterator[bool]:
    """Mount a 256 KiB tmpfs at `where` if this machine allows it; yields whether it did."""
    where.mkdir(parents=True)
    command = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)]
    mounted = (
        shutil.which("mount") is not None and subprocess.run(command, capture_output=True).returncode == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def fill(directory: Path) -> Path:
    """Write a filler file until the file system is full."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_real_enospc_on_a_full_tmpfs(tmp_path: Path, reliability_report) -> None:
    settings = Settings(data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url="sqlite://")
    with tiny_tmpfs(settings.log_root) as mounted:
        if not mounted:  # containers without CAP_SYS_ADMIN: the injected-writer test above still runs
            reliability_report.add(TMPFS_FAULT, 0, "not run: this machine refused the mount")
            return
        with signed_in_client(create_app(settings)) as client:
            filler = fill(settings.log_root)
            start = request_body()
            assert_disk_full_answer(client.post(START, json=start))
            assert_disk_full_answer(client.post(START, json=start))
            assert assert_logs_clean(settings) == 0
            filler.unlink()
            session_id = client.post(START, json=start).json()["session_id"]
            assert client.post(END, json=request_body(session_id=session_id)).status_code == 200
            assert assert_logs_clean(settings) == 2
    reliability_report.add(
        TMPFS_FAULT,
        2,
        "2 x 507 insufficient_storage JSON, no event and no torn line written; "
        "after freeing space the same start and an end succeeded",
    )
