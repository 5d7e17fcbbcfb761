"""The audit trail: who did or saw what to whose data, one durable record per action.

Records go through the recorder (fdatasync before `record` returns, so a request whose answer was sent
has its record on disk, whatever happens to the process next) into `<LOG_ROOT>/audit/<YYYY-MM-DD>`
streams, one per UTC day of the record's timestamp. `read` filters by user, account and start time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from a3cp.accounts.credentials import Clock
from a3cp.accounts.policy import Role
from a3cp.config import Settings
from a3cp.schemas import AuditAction, AuditRecord, Outcome, format_timestamp
from a3cp.storage_layout import audit_log_days, audit_log_path
from eventstore import append_event, read_log

ANONYMOUS = "anonymous"  # the performer of a request no account was proven for (a failed login)


class AuditTrail:
    def __init__(self, settings: Settings, *, clock: Clock = time.time) -> None:
        self._settings = settings
        self._clock = clock

    def record(
        self,
        action: AuditAction,
        outcome: Outcome,
        *,
        client: str,
        account: str | None = None,
        role: Role | None = None,
        proven: bool = True,
        user_id: str | None = None,
        object_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Durably append one record; `proven=False` when `account` is only a name someone tried."""
        moment = datetime.fromtimestamp(self._clock(), UTC)
        entry = AuditRecord(
            timestamp=format_timestamp(moment),
            performer_id=account if account is not None and proven else ANONYMOUS,
            account=account,
            role=role,
            action=action,
            user_id=user_id,
            object_id=object_id,
            details=details,
            outcome=outcome,
            client=client[:128],
        )
        path = audit_log_path(self._settings, moment.date(), create_dir=True)
        append_event(path, entry.model_dump(mode="json", exclude_none=True))
        return entry

    def read(
        self, *, user_id: str | None = None, account: str | None = None, since: datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Records oldest first, only those matching every filter given."""
        since_stamp = format_timestamp(since) if since is not None else None
        for day, path in audit_log_days(self._settings):
            if since is not None and day < since.astimezone(UTC).date():
                continue
            for raw in read_log(path).events:
                try:
                    entry = AuditRecord.model_validate(raw)
                except ValidationError:
                    continue  # not an audit record; the recorder reports torn lines itself
                if user_id is not None and entry.user_id != user_id:
                    continue
                if account is not None and entry.account != account:
                    continue
                if since_stamp is not None and entry.timestamp < since_stamp:
                    continue
                yield entry
