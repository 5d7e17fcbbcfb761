"""Input timestamps: RFC 3339 with Z or a numeric offset, up to microseconds, normalised to the
recorded form (UTC, milliseconds truncated, Z); anything else refused with a reason."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from a3cp.schemas.base import InputTimestamp, Timestamp

INPUT: TypeAdapter[str] = TypeAdapter(InputTimestamp)
RECORDED: TypeAdapter[str] = TypeAdapter(Timestamp)


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        ("2026-03-15T12:34:56.789Z", "2026-03-15T12:34:56.789Z"),  # the browser's toISOString()
        ("2026-03-15T12:34:56.123456Z", "2026-03-15T12:34:56.123Z"),
        ("2026-03-15T12:34:56.123999+00:00", "2026-03-15T12:34:56.123Z"),  # truncated, never rounded up
        ("2026-03-15T12:34:56Z", "2026-03-15T12:34:56.000Z"),
        ("2026-03-15T12:34:56.5-05:30", "2026-03-15T18:04:56.500Z"),
        ("2026-01-01T00:30:00.000+01:00", "2025-12-31T23:30:00.000Z"),
    ],
)
def test_accepted_forms_are_recorded_in_utc_milliseconds(sent: str, recorded: str) -> None:
    assert INPUT.validate_python(sent) == recorded
    assert RECORDED.validate_python(recorded) == recorded  # the recorded invariant is unchanged


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("2026-03-15T12:34:56.123456", "no UTC offset"),
        ("2026-03-15T12:34:56", "no UTC offset"),
        ("2026-03-15T12:34:56.1234567Z", "RFC 3339"),
        ("2026-03-15 12:34:56.123Z", "RFC 3339"),
        ("2026-02-30T12:34:56.123Z", "not a real date"),
        ("0001-01-01T00:30:00.000+01:00", "not a real date"),
    ],
)
def test_other_forms_are_refused_with_a_reason(sent: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        INPUT.validate_python(sent)


def test_recorded_timestamps_stay_strict() -> None:
    with pytest.raises(ValidationError):
        RECORDED.validate_python("2026-03-15T12:34:56.123456Z")
