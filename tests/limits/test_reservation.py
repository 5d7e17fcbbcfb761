"""record_id reservations and locked temp files, without Holistic: a marker is taken once, a racer
waits and then gets a conflict or the freed name, a dead holder's marker is taken over, the sweep
removes only temp files no live writer holds, and `a3cp verify --repair` removes orphans and strays."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from a3cp.capture.locked_temp import locked_temp, remove_stray_temp_files, stray_temp_files
from a3cp.capture.reservation import Owner, reserve
from a3cp.config import Settings
from a3cp.domain.errors import RecordIdConflict
from a3cp.storage_layout import session_features_dir
from tests.fixtures.cli import run_cli
from tests.fixtures.races import FORK
from tests.fixtures.sessions import start_session_in

OWNER = Owner("elias01", "s1")
OTHER = Owner("maria02", "s2")


def test_a_recorded_reservation_refuses_every_later_owner(tmp_path: Path) -> None:
    marker = tmp_path / "rid"
    with reserve(marker, OWNER, lambda owner: False):
        pass
    with pytest.raises(RecordIdConflict), reserve(marker, OTHER, lambda owner: owner == OWNER):
        pytest.fail("the second owner must not get the reservation")
    assert marker.exists()


def test_a_failed_holder_frees_the_record_id(tmp_path: Path) -> None:
    marker = tmp_path / "rid"
    with pytest.raises(ValueError), reserve(marker, OWNER, lambda owner: False):
        raise ValueError("the capture failed")
    assert not marker.exists()
    with reserve(marker, OTHER, lambda owner: False):
        assert marker.exists()


def test_a_racer_waits_for_the_holder_then_gets_the_conflict(tmp_path: Path) -> None:
    marker = tmp_path / "rid"
    recorded: set[Owner] = set()
    outcome: list[str] = []
    inside = threading.Event()

    def racer() -> None:
        inside.wait()
        try:
            with reserve(marker, OTHER, lambda owner: owner in recorded):
                outcome.append("reserved")
        except RecordIdConflict:
            outcome.append("conflict")

    thread = threading.Thread(target=racer)
    thread.start()
    with reserve(marker, OWNER, lambda owner: owner in recorded):
        inside.set()
        time.sleep(0.2)  # the racer is blocked on the marker's lock meanwhile
        assert outcome == []
        recorded.add(OWNER)
    thread.join(5)
    assert outcome == ["conflict"]


def _die_holding(marker: Path) -> None:
    with reserve(marker, OWNER, lambda owner: False):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_holders_marker_is_taken_over(tmp_path: Path) -> None:
    marker = tmp_path / "rid"
    child = FORK.Process(target=_die_holding, args=(marker,))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL and marker.exists()
    with reserve(marker, OTHER, lambda owner: False):  # the dead owner recorded nothing
        assert b"maria02" in marker.read_bytes()
    assert stray_temp_files(tmp_path) == []


def _die_writing(directory: Path) -> None:
    locked_temp(directory, "rid")
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_sweep_removes_only_temp_files_no_writer_holds(tmp_path: Path) -> None:
    child = FORK.Process(target=_die_writing, args=(tmp_path,))
    child.start()
    child.join(10)
    fd, live = locked_temp(tmp_path, "other")
    try:
        strays = stray_temp_files(tmp_path)
        assert len(strays) == 1 and strays[0] != live
        assert remove_stray_temp_files(tmp_path) == strays
        assert sorted(tmp_path.iterdir()) == [live]
    finally:
        os.close(fd)
    assert stray_temp_files(tmp_path) == [live]  # its writer is gone now


def test_verify_repair_removes_orphans_and_strays_printing_each(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "data", tmp_path / "logs", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    features = session_features_dir(settings, "elias01", start_session_in(settings), create=True)
    orphan = features / "3b241101-e2bb-4255-8caf-4136c566a962.npz"
    orphan.write_bytes(b"never recorded")
    child = FORK.Process(target=_die_writing, args=(features,))
    child.start()
    child.join(10)
    [stray] = stray_temp_files(features)

    found = run_cli(settings, "verify")
    assert found.returncode == 1 and "orphaned 1, stray 1" in found.stdout, found.stdout
    repaired = run_cli(settings, "verify", "--repair")
    assert f"removed {orphan}" in repaired.stdout and f"removed {stray}" in repaired.stdout, repaired.stdout
    assert repaired.returncode == 0 and list(features.iterdir()) == []
