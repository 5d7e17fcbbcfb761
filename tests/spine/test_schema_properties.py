"""Property tests of the schema invariants (hypothesis).

Example counts are sized for CI: the service round trip (real files, one temp dir per example) runs
40 examples; the pure parsing properties run 300 each. Together they take a few seconds.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from invariants import assert_event_invariants, assert_reparses
from pydantic import ValidationError

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.schemas import (
    EventEnvelope,
    SessionManagerEndInput,
    SessionManagerStartInput,
    format_timestamp,
    parse_timestamp,
)
from a3cp.storage_layout import ID_PATTERN, UnsafeIdError, require_safe_id, session_log_path
from eventstore import read_log
from eventstore.format import decode_line, encode_event

pytestmark = pytest.mark.fast

ID_RE = re.compile(ID_PATTERN)
TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)  # JSON strings have no lone surrogates
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
timestamps = moments.map(format_timestamp)
record_ids = st.uuids(version=4).map(str)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)

start_inputs = st.fixed_dictionaries(
    {"record_id": record_ids, "user_id": ids, "timestamp": timestamps, "performer_id": ids},
    optional={
        "schema_version": st.just("1.0.1"),
        "is_training_data": st.booleans(),
        "session_notes": text,
        "training_intent_label": text,
        "device_id": text,
        "consent_given": st.booleans(),
        "is_demo": st.booleans(),
        "modality": st.sampled_from(["gesture", "audio", "speech", "image", "multimodal"]),
    },
)


@settings(max_examples=40, deadline=None)
@given(start=start_inputs, end_performer=ids, end_record_id=record_ids)
def test_any_accepted_start_and_end_records_valid_events(start: dict, end_performer: str, end_record_id: str):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = Settings(data_root=root / "data", log_root=root / "logs", db_url="sqlite://")
        sessions = Services.build(config).sessions
        started = sessions.start(SessionManagerStartInput.model_validate(start))
        end = {
            "record_id": end_record_id,
            "user_id": start["user_id"],
            "session_id": started.session_id,
            "timestamp": start["timestamp"],
            "performer_id": end_performer,
        }
        if end_record_id != start["record_id"]:
            sessions.end(SessionManagerEndInput.model_validate(end))
        events = read_log(session_log_path(config, start["user_id"], started.session_id)).events
    common = {"user_id": start["user_id"], "session_id": started.session_id}
    assert_event_invariants(
        events[0], record_id=start["record_id"], performer_id=start["performer_id"], **common
    )
    for name in ("session_notes", "is_training_data", "device_id", "consent_given", "is_demo"):
        assert events[0].get(name) == start.get(name, False if name == "is_training_data" else None)
    if len(events) == 2:
        assert_event_invariants(events[1], record_id=end_record_id, performer_id=end_performer, **common)


events = st.fixed_dictionaries(
    {
        "schema_version": st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
        "record_id": record_ids,
        "user_id": ids,
        "session_id": ids,
        "timestamp": timestamps,
        "source": text.filter(bool),
        "performer_id": ids,
        "event": text.filter(bool),
    },
    optional={"payload": json_values, "note": text, "count": st.integers(0, 10**6)},
)


@settings(max_examples=300)
@given(event=events)
def test_any_event_reparses_to_itself(event: dict) -> None:
    line = encode_event(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_line(line[:-1]) == event
    assert_reparses(event)


@settings(max_examples=300)
@given(value=st.text(max_size=70) | st.binary(max_size=70).map(lambda b: b.decode("latin-1")))
@example("../x")
@example("a/b")
@example("")
@example("\x00")
@example("abc\n")
@example("ａｂｃ")
@example("x" * 65)
def test_any_non_matching_id_is_rejected(value: str) -> None:
    if ID_RE.fullmatch(value):
        return  # a valid id; the property is about the others
    with pytest.raises(UnsafeIdError):
        require_safe_id(value, "user_id")
    with pytest.raises(ValidationError) as caught:
        SessionManagerStartInput.model_validate(
            {
                "record_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                "user_id": value,
                "timestamp": "2026-11-24T10:00:00.123Z",
                "performer_id": value,
            }
        )
    assert {e["loc"][0] for e in caught.value.errors()} == {"user_id", "performer_id"}


def _mangle(moment: datetime, how: int) -> str:
    ok = format_timestamp(moment)
    return [
        ok[:-1],  # no Z
        ok[:-1] + "+00:00",
        ok.lower(),
        ok.replace("T", " "),
        ok[:-5] + "Z",  # no milliseconds
        ok[:-1] + "000Z",  # microseconds
        ok[:-2] + "Z",  # two digits of milliseconds
        ok + "\n",
        " " + ok,
        ok[:10].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + ok[10:],  # fullwidth date
        ok[:4].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + ok[4:],  # Arabic-Indic year
        moment.isoformat(),
        ok[:5] + "13" + ok[7:],  # month 13
        ok[:8] + "32" + ok[10:],  # day 32
    ][how]


def test_any_timestamp_not_in_utc_ms_z_form_is_rejected(reliability_report) -> None:
    tried: Counter[str] = Counter()

    @settings(max_examples=300)
    @given(value=st.text(max_size=40) | st.builds(_mangle, moments, st.integers(0, 13)))
    @example("2026-02-30T10:00:00.000Z")
    def check(value: str) -> None:
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
            real = True
        except ValueError:
            real = False
        if TIMESTAMP_RE.fullmatch(value) and value.isascii() and real:
            assert format_timestamp(parse_timestamp(value)) == value  # valid ones round-trip exactly
            tried["valid, round-tripped"] += 1
            return
        with pytest.raises(ValueError):
            parse_timestamp(value)
        with pytest.raises(ValidationError):
            EventEnvelope.model_validate(
                {
                    "schema_version": "1.0.1",
                    "record_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                    "user_id": "u",
                    "session_id": "s",
                    "timestamp": value,
                    "source": "x",
                    "performer_id": "system",
                    "event": "e",
                }
            )
        tried["rejected"] += 1

    check()
    reliability_report.add(
        "Timestamps not in UTC ISO 8601 form with milliseconds and Z (hypothesis: any text, and 14 manglings"
        " of real instants: offsets, no Z, micro/no ms, spaces, non-ASCII digits, month 13, day 32, Feb 30)",
        sum(tried.values()),
        f"{tried['rejected']} malformed: every one refused by parse_timestamp and EventEnvelope; "
        f"{tried['valid, round-tripped']} well-formed: each round-tripped exactly",
    )
