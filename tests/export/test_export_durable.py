"""An export folder is durable before it is renamed into place: every file and folder in it fsynced,
then the exports folder once the rename is done (an export of nothing, so no MediaPipe is needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from a3cp.config import Settings
from a3cp.export.service import ExportPlan, write_export
from a3cp.schemas import ExportRequest
from a3cp.storage_layout import StorageLayout

pytestmark = pytest.mark.fast


def test_every_file_and_folder_is_fsynced_before_and_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_root=tmp_path / "data", log_root=tmp_path / "logs", db_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    StorageLayout(settings).ensure_roots()
    exports = tmp_path / "data" / "exports"
    exports.mkdir(exist_ok=True)
    target = exports / "e1"
    synced: list[tuple[str, bool]] = []  # (path fsynced, was the export renamed into place yet)
    fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), target.exists()))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    plan = ExportPlan(ExportRequest(format="islr"), [], "e1", "2026-12-01T12:00:00.000Z")
    write_export(settings, plan, target)

    staging = exports / ".e1.partial-e1"
    before = {path for path, renamed in synced if not renamed}
    written = {str(staging / p.relative_to(target)) for p in target.rglob("*")} | {str(staging)}
    assert written <= before  # each file (train.csv, manifests, README, export.json) and the folder
    assert synced[-1] == (str(exports), True)  # the rename itself made durable
