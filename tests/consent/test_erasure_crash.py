"""SIGKILL in the middle of an erasure (after deleting a file, before its event; between two captures),
then a restart: the next start (Services.build) finishes the erasure and verify passes
(docs/privacy.md, "Crash safety")."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.domain.consent import ConsentWithdrawn
from a3cp.services.consent import ConsentService
from a3cp.services.verify import verify
from bench.client import USER, start_session
from tests.fixtures.ws_capture import feature_files

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("point", ["after_delete", "between_captures"])
def test_a_killed_erasure_is_finished_by_the_next_start(
    client: TestClient,
    settings: Settings,
    post_capture: Callable[..., Any],
    grant: Callable[..., dict[str, Any]],
    point: str,
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

    services = Services.build(settings)  # a restart
    services.projection.engine.dispose()
    assert feature_files(settings, session_id, USER) == []
    report = verify(settings)
    assert report.ok, report.failure_lines()
    assert report.statuses == {"erased": 2}
    assert len([e for e in consent.state(USER).history if e.event == "capture.erased"]) == 2
