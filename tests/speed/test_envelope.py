"""The projection's pydantic-free envelope check agrees with parse_event on generated dicts."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from a3cp.domain.events import parse_event
from projections.envelope import has_valid_envelope

VALID = {
    "schema_version": "1.0.1",
    "record_id": "0b7e2a4c-1f3d-4c5e-9a8b-7c6d5e4f3a2b",
    "user_id": "ana",
    "session_id": "sess_1",
    "timestamp": "2026-11-24T10:00:00.123Z",
    "source": "session_manager",
    "performer_id": "carer01",
    "event": "capture.features",
}
# Values near each field's edges: wrong types, empty, too long, Unicode digits, a trailing newline,
# an impossible date or time of day, an upper-case UUID, a UUID of another version.
ODD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
    st.sampled_from(
        [
            "",
            "a" * 64,
            "a" * 65,
            "ana\n",
            "a b",
            "١.٠.١",
            "1.0",
            "10.20.30",
            "2026-02-30T10:00:00.123Z",
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00:00.123Z\n",
            "2026-11-24T24:00:00.000Z",
            "2026-11-24T23:60:00.000Z",
            "2026-11-24T23:59:60.000Z",
            "2024-02-29T23:59:59.999Z",
            "2023-02-29T00:00:00.000Z",
            "0000-01-01T00:00:00.000Z",
            "0001-01-01T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-11-24t10:00:00.123Z",
            str(uuid.uuid4()).upper(),
            str(uuid.uuid1()),
            "system",
            "session.start",
        ]
    ),
    st.text(max_size=70),
)


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(VALID)), ODD_VALUES, max_size=3),
    dropped=st.sets(st.sampled_from(sorted(VALID)), max_size=2),
)
def test_the_fast_check_agrees_with_parse_event(changes: dict[str, Any], dropped: set[str]) -> None:
    record = {key: value for key, value in (VALID | changes).items() if key not in dropped}
    assert has_valid_envelope(record) == (parse_event(record) is not None), record


def test_a_valid_envelope_passes_twice() -> None:  # the second time from the remembered values
    assert has_valid_envelope(dict(VALID)) and has_valid_envelope(dict(VALID))
