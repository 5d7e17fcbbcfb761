"""Which logged dicts are events with a valid envelope, decided without building a pydantic model.

The projection asks this of every line it applies (a million times in a rebuild), and a model per
line cost more than parsing the JSON (docs/benchmarks.md). The rule is exactly the one
`a3cp.domain.events.parse_event` applies (it returns None iff `RecordedEvent` does not validate):
the same patterns from a3cp.schemas.base and a3cp.storage_layout, the same timestamp parser.
tests/speed/test_envelope.py checks the two agree on generated dicts.
"""

from __future__ import annotations

import re
from typing import Any

from a3cp.config import SCHEMA_VERSION
from a3cp.schemas.base import UUID4_PATTERN, parse_timestamp
from a3cp.storage_layout import ID_PATTERN

_UUID4 = re.compile(UUID4_PATTERN.strip("^$"), re.ASCII)
_ID = re.compile(ID_PATTERN.strip("^$"))
_SCHEMA_VERSION = re.compile(r"\d+\.\d+\.\d+")  # SchemaVersion's pattern
# Ids, performers and versions repeat from line to line (one session's log has one user_id and
# session_id): values seen valid are remembered, so most lines pay a set lookup, not a regex.
_KNOWN_MAX = 100_000
_known_ids: set[str] = set()
_known_versions: set[str] = {SCHEMA_VERSION}


def _valid_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in _known_ids:
        return True
    if _ID.fullmatch(value) is None:
        return False
    if len(_known_ids) >= _KNOWN_MAX:
        _known_ids.clear()
    _known_ids.add(value)
    return True


def _valid_version(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in _known_versions:
        return True
    if _SCHEMA_VERSION.fullmatch(value) is None:
        return False
    if len(_known_versions) < _KNOWN_MAX:
        _known_versions.add(value)
    return True


def _valid_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


def has_valid_envelope(record: dict[str, Any]) -> bool:
    """True when `record` validates as a `RecordedEvent` (so `parse_event(record)` is not None)."""
    get = record.get
    record_id = get("record_id")
    return (
        isinstance(record_id, str)
        and _UUID4.fullmatch(record_id) is not None
        and _valid_id(get("user_id"))
        and _valid_id(get("session_id"))
        and _valid_id(get("performer_id"))
        and isinstance(get("source"), str)
        and isinstance(get("event"), str)
        and _valid_version(get("schema_version", SCHEMA_VERSION))
        and _valid_timestamp(get("timestamp"))
    )
