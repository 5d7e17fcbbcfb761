"""Events for the reliability tests (also imported by the crash child, which runs as a script)."""

from __future__ import annotations

from typing import Any

from a3cp.config import SCHEMA_VERSION
from a3cp.schemas import new_record_id, utc_now


def make_event(session_id: str = "sess_reliability", **extra: Any) -> dict[str, Any]:
    """A valid event with a fresh record_id; `extra` adds payload fields."""
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": new_record_id(),
        "user_id": "reliability",
        "session_id": session_id,
        "timestamp": utc_now(),
        "source": "reliability_test",
        "performer_id": "system",
        "event": "test.append",
        **extra,
    }
