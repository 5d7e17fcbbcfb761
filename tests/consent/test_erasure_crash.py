"""SIGKILL in the middle of an erasure (after deleting a file, before its event; between two captures),
then a recovery: the next start (Services.build), or `a3cp verify --repair` without any start, finishes
the erasure and verify passes (docs/privacy.md, "Crash safety"); a plain `a3cp verify` only reports it
pending."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.bootstrap import Services
from a3cp.cli import main as a3cp_main
from a3cp.config import Settings
from a3cp.domain.consent import ConsentWithdrawn
from a3cp.services.consent import ConsentService
from a3cp.services.verify import verify
from bench.client import USER, start_session
from tests.fixtures.ws_capture import feature_files

REPO = Path(__file__).resolve().parents[2]
NET_WAIT_S = 30.0  # a readiness wait for the app's background safety net, not a timed assertion


def _restart(settings: Settings) -> None:
    services = Services.build(settings)
    services.projection.engine.dispose()


def _verify_repair(settings: Settings) -> None:
    assert a3cp_main(["verify", "--repair"]) == 0


@pytest.mark.parametrize("recover", [_restart, _verify_repair], ids=["next_start", "verify_repair"])
@pytest.mark.parametrize("point", ["after_delete", "between_captures"])
def test_a_killed_erasure_is_finished_by_the_next_start_or_verify_repair(
    client: TestClient,
    settings: Settings,
    post_capture: Callable[..., Any],
    grant: Callable[..., dict[str, Any]],
    point: str,
    recover: Callable[[Settings], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grant("capture", "store_face")
    session_id = start_session(client, USER)
    for _ in range(2):
        assert post_capture(session_id).status_code == 201
    consent = ConsentService(settings)
    withdrawal = ConsentWithdrawn(user_id=USER, performer_id="carer01", scopes=("capture",), erase=True)
    consent.record(USER, lambda state: withdrawal)  # the request is logged; the erasure is the child's

    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.consent.erasure_crash_child",
            str(settings.data_root),
            str(settings.log_root),
            USER,
            point,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stdout + child.stderr
    assert len(feature_files(settings, session_id, USER)) == 1  # one file gone, one left
    erased_so_far = [e for e in consent.state(USER).history if e.event == "capture.erased"]
    assert len(erased_so_far) == (0 if point == "after_delete" else 1)
    report = verify(settings)
    assert not report.ok and report.erasure_pending  # pending, never reported as a missing file
    assert not any("missing" in line for line in report.failure_lines())
    monkeypatch.setenv("DATA_ROOT", str(settings.data_root))
    monkeypatch.setenv("LOG_ROOT", str(settings.log_root))
    capsys.readouterr()
    assert a3cp_main(["verify"]) == 1  # without --repair: reported, not finished
    assert "erasure pending" in capsys.readouterr().out
    assert len(feature_files(settings, session_id, USER)) == 1

    recover(settings)
    assert feature_files(settings, session_id, USER) == []
    report = verify(settings)
    assert report.ok, report.failure_lines()
    assert report.statuses == {"erased": 2}
    assert len([e for e in consent.state(USER).history if e.event == "capture.erased"]) == 2

    # The running app's projection catches up with what the recovery appended (another process's
    # appends, made without the app's listener: its background safety net applies them within seconds).
    def statuses() -> list[str]:
        (session,) = client.get(f"/session_manager/users/{USER}/sessions").json()["sessions"]
        return [capture["status"] for capture in session["captures"]]

    deadline = time.monotonic() + NET_WAIT_S
    while statuses() != ["erased", "erased"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert statuses() == ["erased", "erased"]
