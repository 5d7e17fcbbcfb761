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
_ID_FIELDS = ("user_id", "session_id", "performer_id")
_TEXT_FIELDS = ("source", "event")


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


def has_valid_envelope(record: dict[str, Any]) -> bool:
    """True when `record` validates as a `RecordedEvent` (so `parse_event(record)` is not None)."""
    return (
        _matches(_UUID4, record.get("record_id"))
        and all(_matches(_ID, record.get(name)) for name in _ID_FIELDS)
        and all(isinstance(record.get(name), str) for name in _TEXT_FIELDS)
        and _matches(_SCHEMA_VERSION, record.get("schema_version", SCHEMA_VERSION))
        and _is_timestamp(record.get("timestamp"))
    )
