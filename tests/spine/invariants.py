"""Envelope invariants every recorded event must satisfy, for the spine tests."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from a3cp.config import SCHEMA_VERSION
from a3cp.schemas import A3CPMessage, EventEnvelope
from a3cp.storage_layout import ID_PATTERN
from tests.fixtures.accounts import is_account_file

TIMESTAMP_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
ID_RE = re.compile(ID_PATTERN)
ENVELOPE_FIELDS = (
    "schema_version",
    "record_id",
    "user_id",
    "session_id",
    "timestamp",
    "source",
    "performer_id",
    "event",
)


def assert_event_invariants(event: dict[str, Any], **expected: str) -> None:
    """Fail unless `event` carries a complete, well-formed envelope (and the `expected` values)."""
    missing = [name for name in ENVELOPE_FIELDS if name not in event]
    assert not missing, f"event lacks {missing}: {event}"
    assert event["schema_version"] == SCHEMA_VERSION
    parsed = uuid.UUID(event["record_id"])
    assert parsed.version == 4 and str(parsed) == event["record_id"], event["record_id"]
    for name in ("timestamp", "start_time", "end_time", "client_timestamp"):
        if name in event:
            assert TIMESTAMP_RE.fullmatch(event[name]), f"{name}={event[name]!r}"
            datetime.strptime(event[name], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    for name in ("user_id", "session_id", "performer_id"):
        assert ID_RE.fullmatch(event[name]) and event[name].isascii(), f"{name}={event[name]!r}"
    assert isinstance(event["source"], str) and event["source"], event
    for name, value in expected.items():
        assert event[name] == value, f"{name}: {event[name]!r} != {value!r}"
    assert_reparses(event)


def assert_reparses(event: dict[str, Any]) -> None:
    """The event survives a round trip through the public models unchanged."""
    assert EventEnvelope.model_validate(event).model_dump(mode="json") == event
    assert A3CPMessage.model_validate(event).model_dump(mode="json", exclude_unset=True) == event


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes (to prove a rejected request wrote nothing). The SQLite
    projection's own files are left out: a read's catch-up may touch its WAL and shared memory; so is the
    account layer, where a refused request's audit record belongs."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("projection.sqlite3") and not is_account_file(p)
    }
