"""Run one export: from the logs and feature files to a finished export folder, or nothing.

Reads every capture event and each user's consent fold, selects (a3cp.export.selection), verifies
every selected file first (a failure stops the export with the list of bad captures), then writes the
export into a hidden staging folder beside the target and renames it into place only once complete
and durable (every file and folder in it fsynced, then the exports folder after the rename): a failed,
interrupted or crashed export leaves no half-written dataset. One capture's arrays are in memory at a
time. The caller decides which users the account may export; `record_export` writes the audit.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from a3cp.accounts.audit import AuditTrail
from a3cp.accounts.policy import Role
from a3cp.capture.artifact import sha256_digest
from a3cp.config import Settings
from a3cp.domain.consent import erasure_targets
from a3cp.domain.errors import DomainError
from a3cp.domain.events import CaptureFeatures
from a3cp.export.formats import CaptureData, FormatWriter, write_durably, writer_for
from a3cp.export.manifest import (
    canonical_json,
    capture_entry,
    fps_of,
    identity,
    manifest,
    manifest_csv,
    readme,
)
from a3cp.export.pseudonym import Pseudonyms, load_or_create_key, scope_of
from a3cp.export.selection import SelectedCapture, select
from a3cp.schemas import AuditAction, AuditRecord, ExportListing, ExportRequest, Outcome, parse_timestamp
from a3cp.services.consent import ConsentService, fact_of
from a3cp.services.verify import check_feature_event, feature_events
from a3cp.storage_layout import export_key_path
from eventstore.durable import fsync_directory

Progress = Callable[[int, int], None]  # (captures written, captures selected)


class ExportVerifyFailed(DomainError):
    """A selected capture's file does not verify: nothing is exported; the message lists them all."""

    code = "export_verify_failed"


@dataclass(frozen=True)
class ExportOutcome:
    export_id: str
    created_at: str
    root: Path
    manifest: dict[str, Any]
    users: list[str]  # whose captures went out (for the audit trail; never written into the export)


def _no_progress(done: int, total: int) -> None:
    return None


def selected_captures(
    settings: Settings, request: ExportRequest, allowed: frozenset[str] | None, now: str
) -> list[SelectedCapture]:
    """The captures `request` selects among the users in `allowed` (None: every user)."""
    events = [e for e in feature_events(settings) if allowed is None or e.user_id in allowed]
    consent = ConsentService(settings)
    states = {user: consent.state(user) for user in sorted({e.user_id for e in events})}
    erasing = frozenset(
        capture.record_id
        for user, state in states.items()
        for capture, _ in erasure_targets(state, (fact_of(e) for e in events if e.user_id == user))
    )
    return select(events, states, request, now, erasing)


def require_verified(settings: Settings, captures: Iterable[SelectedCapture]) -> None:
    """ExportVerifyFailed naming every capture whose file fails verify (sha256, shape, dims)."""
    problems = [
        f"{check.record_id}: {problem}"
        for check in (check_feature_event(settings, capture.event) for capture in captures)
        for problem in check.problems
    ]
    if problems:
        raise ExportVerifyFailed(
            f"{len(problems)} selected captures fail verification, nothing was exported: "
            + "; ".join(problems),
            "captures",
        )


def _capture_data(settings: Settings, capture: SelectedCapture, ids: tuple[int, int]) -> CaptureData:
    """Read the recorded file once, re-checking its hash (it may have changed since verify)."""
    event = capture.event
    reference = event.raw_features_ref
    assert reference is not None and reference.uri is not None  # verified
    recorded = (settings.data_root / reference.uri).read_bytes()
    if sha256_digest(recorded) != reference.hash:
        raise ExportVerifyFailed(f"{capture.record_id}: file changed during the export", "captures")
    with np.load(io.BytesIO(recorded), allow_pickle=False) as npz:
        features = npz["features"]
        timestamps = npz["timestamps_ms"].astype(np.int64)
    start_ms = _start_ms(event, timestamps)
    relative = timestamps - start_ms
    return CaptureData(
        participant_id=ids[0],
        sequence_id=ids[1],
        label=capture.label,
        fps=fps_of(reference.encoding) or 0.0,
        features=features,
        timestamps_ms=relative,
        recorded=recorded,
        recorded_relative=bool(np.array_equal(relative, timestamps)),
    )


def _start_ms(event: CaptureFeatures, timestamps: np.ndarray[Any, Any]) -> int:
    if event.timestamp_start is not None:
        return round(parse_timestamp(event.timestamp_start).timestamp() * 1000)
    return int(timestamps[0]) if timestamps.size else 0


def _write(
    settings: Settings,
    staging: Path,
    writer: FormatWriter,
    filters: dict[str, Any],
    captures: list[SelectedCapture],
    progress: Progress,
) -> dict[str, Any]:
    pseudonyms = Pseudonyms(load_or_create_key(export_key_path(settings)), scope_of(filters))
    ordered = sorted(
        ((pseudonyms.participant(c.user_id), pseudonyms.sequence(c.record_id)), c) for c in captures
    )
    entries = []
    for done, (ids, capture) in enumerate(ordered, start=1):
        data = _capture_data(settings, capture, ids)
        files = writer.write_capture(staging, data)
        entries.append(capture_entry(capture, *ids, int(data.features.shape[0]), files))
        progress(done, len(ordered))
    writer.finish(staging, entries)
    described = manifest(writer, filters, entries)
    write_durably(staging / "manifest.json", canonical_json(described))
    write_durably(staging / "manifest.csv", manifest_csv(entries))
    write_durably(staging / "README.md", readme(writer, len(entries)))
    return described


def _fsync_folders(root: Path) -> None:
    """Make every folder's entries under `root` (and root's own) durable, deepest first."""
    for folder, _, _ in os.walk(root, topdown=False):
        fsync_directory(Path(folder))


@dataclass(frozen=True)
class ExportPlan:
    """An export decided and verified, not yet written: what `write_export` writes."""

    request: ExportRequest
    captures: list[SelectedCapture]
    export_id: str
    created_at: str


def plan_export(
    settings: Settings,
    request: ExportRequest,
    *,
    export_id: str,
    created_at: str,
    allowed: frozenset[str] | None = None,
) -> ExportPlan:
    """Select what `request` takes (among `allowed` users) and verify every file: ExportVerifyFailed
    naming each bad capture, before anything is written."""
    captures = selected_captures(settings, request, allowed, created_at)
    require_verified(settings, captures)
    return ExportPlan(request, captures, export_id, created_at)


def write_export(
    settings: Settings, plan: ExportPlan, target: Path, progress: Progress = _no_progress
) -> ExportOutcome:
    """Write `plan` into `target`, which must not exist yet (an empty folder is taken), through a
    staging folder renamed into place once complete."""
    writer = writer_for(plan.request.format)
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        raise FileExistsError(f"{target} exists and is not empty")
    staging = target.parent / f".{target.name}.partial-{plan.export_id}"
    staging.mkdir(parents=True)
    try:
        described = _write(settings, staging, writer, plan.request.filters(), plan.captures, progress)
        write_durably(staging / "export.json", identity(plan.export_id, plan.created_at))
        _fsync_folders(staging)
        staging.rename(target)
        fsync_directory(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    users = sorted({capture.user_id for capture in plan.captures})
    return ExportOutcome(plan.export_id, plan.created_at, target, described, users)


def run_export(
    settings: Settings,
    request: ExportRequest,
    target: Path,
    *,
    export_id: str,
    created_at: str,
    allowed: frozenset[str] | None = None,
    progress: Progress = _no_progress,
) -> ExportOutcome:
    """`plan_export` then `write_export`: the whole export, or ExportVerifyFailed with nothing written."""
    plan = plan_export(settings, request, export_id=export_id, created_at=created_at, allowed=allowed)
    return write_export(settings, plan, target, progress)


def audit_details(request: ExportRequest, outcome: ExportOutcome) -> dict[str, Any]:
    """What the audit trail keeps of an export: format, filters, how many captures, whose."""
    return {
        "format": request.format,
        "filters": request.filters(),
        "captures": outcome.manifest["captures_count"],
        "users": outcome.users,
        "created_at": outcome.created_at,
    }


def record_export(
    audit: AuditTrail,
    request: ExportRequest,
    outcome: ExportOutcome,
    *,
    client: str,
    account: str,
    role: Role | None,
) -> None:
    """The export's audit records (see `record_per_person`), each with the export's details."""
    details = audit_details(request, outcome)
    record_per_person(
        audit,
        AuditAction.EXPORT,
        outcome.export_id,
        outcome.users,
        details,
        client=client,
        account=account,
        role=role,
    )


def record_per_person(
    audit: AuditTrail,
    action: AuditAction,
    export_id: str,
    users: Iterable[str],
    details: dict[str, Any],
    *,
    client: str,
    account: str,
    role: Role | None,
) -> None:
    """One `action` record about the export per person whose data it holds (findable by user), one
    without a user for an export of nothing."""
    whose: list[str | None] = list(users) or [None]
    for user_id in whose:
        audit.record(
            action,
            Outcome.OK,
            client=client,
            account=account,
            role=role,
            user_id=user_id,
            object_id=export_id,
            details=details,
        )


def exports_in(records: Iterable[AuditRecord]) -> list[ExportListing]:
    """The exports the audit records describe (one listing per export id, in the order made)."""
    listings: dict[str, ExportListing] = {}
    for record in records:
        details = record.details or {}
        if record.object_id is None or record.object_id in listings or "format" not in details:
            continue
        listings[record.object_id] = ExportListing(
            export_id=record.object_id,
            created_at=details.get("created_at", record.timestamp),
            account=record.account,
            format=details["format"],
            filters=details.get("filters", {}),
            captures=details.get("captures", 0),
            users=details.get("users", []),
        )
    return list(listings.values())
