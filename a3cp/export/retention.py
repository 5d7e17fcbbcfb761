"""Server-held exports: which may still be kept, and deleting the rest.

An export folder under `DATA_ROOT/exports/` is a copy of people's data waiting to be downloaded, so it may
be held only while every person in it still allows it: their `research` consent in force, and no erasure
of theirs asked or done since the export was made (the copy may hold the erased captures). `retire_reason`
decides that (pure). `held_exports` reads the register (the audit trail's `export` and `export_deleted`
records); `retire_stale` deletes the folders that fail the rule, each with `export_deleted` audit records
by `system`; `delete_export` is an account's own deletion. Listings and downloads retire stale exports
first, the consent routes right after a withdrawal or erasure, `a3cp verify --repair` on demand. A copy
already downloaded cannot be recalled (docs/privacy.md).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from a3cp.accounts.audit import AuditTrail
from a3cp.accounts.policy import Role
from a3cp.config import Settings
from a3cp.domain.consent import CaptureErased, ConsentWithdrawn, UserConsentState
from a3cp.export.service import exports_in, record_per_person
from a3cp.schemas import SYSTEM_PERFORMER, AuditAction, AuditRecord, ExportListing, Outcome
from a3cp.services.consent import ConsentService
from a3cp.storage_layout import export_dir, exports_dir
from eventstore.durable import fsync_directory

RETIRING = ".retiring-"  # a folder being deleted: renamed first, so no download meets half of it


@dataclass(frozen=True)
class Retirement:
    """What `retire_stale` did: the exports still held and the ids of those it deleted."""

    kept: list[ExportListing]
    retired: list[str]


def retire_reason(export: ExportListing, states: Mapping[str, UserConsentState], now: str) -> str | None:
    """Why the server may no longer hold `export` (None while it may): a person in it no longer
    consents to research, or asked for or had an erasure after it was made."""
    for user_id in export.users:
        state = states[user_id]
        if not state.scopes["research"].active_at(now):
            return "research consent of a person in it is no longer in force"
        for event in state.history:
            erasing = isinstance(event, CaptureErased) or (
                isinstance(event, ConsentWithdrawn) and event.erase
            )
            if erasing and event.timestamp > export.created_at:
                return "a person in it asked for an erasure after it was made"
    return None


def held_exports(records: Iterable[AuditRecord]) -> list[ExportListing]:
    """The exports the register lists and no `export_deleted` record has removed, oldest first."""
    made: list[AuditRecord] = []
    deleted: set[str] = set()
    for record in records:
        if record.outcome is not Outcome.OK or record.object_id is None:
            continue
        if record.action is AuditAction.EXPORT:
            made.append(record)
        elif record.action is AuditAction.EXPORT_DELETED:
            deleted.add(record.object_id)
    return [export for export in exports_in(made) if export.export_id not in deleted]


def _remove_folder(settings: Settings, export_id: str) -> None:
    """Rename the folder out of the way (one atomic step: it is gone for downloads), then delete it."""
    root = export_dir(settings, export_id)
    retiring = exports_dir(settings) / f"{RETIRING}{export_id}-{uuid.uuid4().hex}"
    try:
        root.rename(retiring)
    except FileNotFoundError:
        return
    fsync_directory(root.parent)
    shutil.rmtree(retiring)


def _record_deletion(
    audit: AuditTrail, export: ExportListing, reason: str, *, client: str, account: str, role: Role | None
) -> None:
    details = {"reason": reason}
    action = AuditAction.EXPORT_DELETED
    record_per_person(
        audit, action, export.export_id, export.users, details, client=client, account=account, role=role
    )


def delete_export(
    settings: Settings,
    audit: AuditTrail,
    export: ExportListing,
    *,
    client: str,
    account: str,
    role: Role | None,
) -> None:
    """Delete `export` at `account`'s request: the folder, then the register's record of it."""
    _remove_folder(settings, export.export_id)
    _record_deletion(audit, export, "deleted on request", client=client, account=account, role=role)


def retire_stale(
    settings: Settings, audit: AuditTrail, consent: ConsentService, now: str, *, user_id: str | None = None
) -> Retirement:
    """Delete every held export (only those holding `user_id`, when given) that `retire_reason` refuses,
    audited as `system`'s. Folders a crash left half deleted go too."""
    for leftover in _leftover_folders(settings):
        shutil.rmtree(leftover, ignore_errors=True)
    held = held_exports(audit.read())
    states: dict[str, UserConsentState] = {}
    kept, retired = [], []
    for export in held:
        if user_id is not None and user_id not in export.users:
            kept.append(export)
            continue
        for person in export.users:
            if person not in states:
                states[person] = consent.state(person)
        reason = retire_reason(export, states, now)
        if reason is None:
            kept.append(export)
            continue
        _remove_folder(settings, export.export_id)
        _record_deletion(audit, export, reason, client="local", account=SYSTEM_PERFORMER, role=None)
        retired.append(export.export_id)
    return Retirement(kept, retired)


def _leftover_folders(settings: Settings) -> list[Path]:
    """Folders a crash left half deleted (renamed, not yet deleted)."""
    root = exports_dir(settings)
    return sorted(root.glob(f"{RETIRING}*")) if root.is_dir() else []
