"""sessions.start/end over HTTP: the recorded events, the performer policy, error codes, OpenAPI."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from invariants import assert_event_invariants, tree
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.schemas import format_timestamp
from a3cp.storage_layout import session_log_path
from bench.client import end_body, request_body
from eventstore import read_log

pytestmark = pytest.mark.fast

START = "/session_manager/sessions.start"
END = "/session_manager/sessions.end"


def fields_of(response) -> set[str]:
    body = response.json()
    assert set(body) == {"error", "message", "fields", "detail"} and body["detail"] == body["message"], body
    return {item["field"] for item in body["fields"]}


def log_events(settings: Settings, user_id: str, session_id: str) -> list[dict]:
    read = read_log(session_log_path(settings, user_id, session_id))
    assert read.torn == []
    return read.events


def test_start_then_end_records_exactly_two_ordered_events(client: TestClient, settings: Settings) -> None:
    start = request_body()
    started = client.post(START, json=start)
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    end = end_body(session_id)
    ended = client.post(END, json=end)
    assert ended.status_code == 200, ended.text

    path = session_log_path(settings, "elias01", session_id)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3, "two newline-terminated lines"
    events = log_events(settings, "elias01", session_id)
    assert [e["event"] for e in events] == ["session.start", "session.end"]
    ids = {"user_id": "elias01", "session_id": session_id, "source": "session_manager"}
    assert_event_invariants(events[0], record_id=start["record_id"], performer_id="carer01", **ids)
    assert_event_invariants(events[1], record_id=end["record_id"], performer_id="carer01", **ids)
    assert events[0]["timestamp"] <= events[1]["timestamp"]
    assert events[0]["start_time"] <= events[1]["end_time"]
    assert started.json()["record_id"] == start["record_id"] and ended.json()["status"] == "closed"


def test_omitted_performer_id_is_recorded_as_the_account(client: TestClient, settings: Settings) -> None:
    start = request_body()
    del start["performer_id"]
    started = client.post(START, json=start)
    assert started.status_code == 201, started.text
    end = end_body(started.json()["session_id"])
    del end["performer_id"]
    assert client.post(END, json=end).status_code == 200
    events = log_events(settings, "elias01", started.json()["session_id"])
    assert [e["performer_id"] for e in events] == ["carer01", "carer01"]


@pytest.mark.parametrize("performer", ["system", "nurse_7"])
@pytest.mark.parametrize("path", [START, END])
def test_another_performer_is_refused_with_nothing_written(
    client: TestClient, settings: Settings, started: dict, path: str, performer: str
) -> None:
    """The recorded performer_id is the authenticated account: naming anyone else (even "system") is
    403 performer_mismatch and the logs are unchanged."""
    body = end_body(started["session_id"]) if path == END else request_body()
    before = tree(settings.log_root / "users")
    response = client.post(path, json=body | {"performer_id": performer})
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "performer_mismatch"
    assert tree(settings.log_root / "users") == before


HOSTILE_IDS = [
    "",
    ".",
    "..",
    "../x",
    "../../etc/passwd",
    "a/b",
    "/abs",
    "a\\b",
    "a\x00b",
    "\x00",
    "abc\n",
    "abc\r\n",
    " abc",
    "ａｂｃ",  # fullwidth letters
    "ａ／ｂ",  # fullwidth solidus
    "．．",  # fullwidth dots
    "abc\u202e",  # right-to-left override
    "e\u0301",  # combining accent
    "café",
    "%2e%2e",
    "x" * 65,
]


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=repr)
def test_hostile_ids_are_rejected_and_write_nothing(client: TestClient, settings: Settings, bad: str) -> None:
    session_id = client.post(START, json=request_body()).json()["session_id"]
    root = settings.log_root.parent
    before = tree(root)
    attempts = [
        (START, request_body(user_id=bad), "user_id"),
        (START, request_body(performer_id=bad), "performer_id"),
        (END, end_body(session_id, user_id=bad), "user_id"),
        (END, end_body(bad), "session_id"),
        (END, end_body(session_id, performer_id=bad), "performer_id"),
    ]
    for path, body, field in attempts:
        response = client.post(path, json=body)
        assert response.status_code == 400, (path, field, response.text)
        assert field in fields_of(response)
    assert tree(root) == before  # root is the test's tmp dir: any escape from LOG_ROOT would land in it


def test_raw_nul_and_escaped_traversal_in_json_are_rejected(client: TestClient, settings: Settings) -> None:
    before = tree(settings.log_root.parent)
    hostile = request_body(user_id="../../x", performer_id="p\x00")
    text = json.dumps(hostile).replace("/", "\\u002f")  # escaped solidus and NUL, as a client may send
    response = client.post(START, content=text, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert fields_of(response) == {"user_id", "performer_id"}
    assert tree(settings.log_root.parent) == before


def test_retried_start_and_end_return_the_first_answer_and_append_nothing(
    client: TestClient, settings: Settings
) -> None:
    start = request_body()
    first = client.post(START, json=start)
    again = client.post(START, json=start | {"timestamp": "2026-11-24T11:00:00.000Z"})
    assert again.status_code == 201 and again.json() == first.json()
    session_id = first.json()["session_id"]
    end = end_body(session_id)
    first_end = client.post(END, json=end)
    again_end = client.post(END, json=end)
    assert first_end.status_code == again_end.status_code == 200
    assert again_end.json() == first_end.json()
    assert len(log_events(settings, "elias01", session_id)) == 2


def test_same_record_id_from_another_user_is_409(client: TestClient, settings: Settings) -> None:
    start = request_body()
    session_id = client.post(START, json=start).json()["session_id"]
    before = tree(settings.log_root)
    response = client.post(START, json=start | {"user_id": "mallory"})
    assert response.status_code == 409 and fields_of(response) == {"record_id"}
    assert tree(settings.log_root) == before
    reuse = client.post(END, json=end_body(session_id) | {"record_id": start["record_id"]})
    assert reuse.status_code == 409 and fields_of(reuse) == {"record_id"}
    assert len(log_events(settings, "elias01", session_id)) == 1


def test_domain_errors(client: TestClient, settings: Settings, started: dict) -> None:
    session_id = started["session_id"]
    unknown = client.post(END, json=end_body("sess_" + uuid.uuid4().hex))
    assert unknown.status_code == 404 and fields_of(unknown) == {"session_id"}
    mismatch = client.post(END, json=end_body(session_id, user_id="someone_else"))
    assert mismatch.status_code == 400 and fields_of(mismatch) == {"user_id"}
    assert client.post(END, json=end_body(session_id)).status_code == 200
    closed = client.post(END, json=end_body(session_id))
    assert closed.status_code == 409 and fields_of(closed) == {"session_id"}
    assert len(log_events(settings, "elias01", session_id)) == 2


def test_end_time_far_in_the_future_or_before_start_is_400(
    client: TestClient, settings: Settings, started: dict
) -> None:
    session_id = started["session_id"]
    now = datetime.now(UTC)
    for end_time in (now + timedelta(minutes=6), now + timedelta(days=400), now - timedelta(days=1)):
        response = client.post(END, json=end_body(session_id, end_time=format_timestamp(end_time)))
        assert response.status_code == 400 and fields_of(response) == {"end_time"}, response.text
    assert len(log_events(settings, "elias01", session_id)) == 1
    near = format_timestamp(now + timedelta(minutes=4))
    assert client.post(END, json=end_body(session_id, end_time=near)).json()["end_time"] == near


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[1]", b"\xff\xfe", b"[" * 60000],
    ids=["empty", "text", "array", "bad-utf8", "deep-nesting"],
)
def test_malformed_bodies_are_400_json(client: TestClient, content: bytes) -> None:
    response = client.post(START, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400 and fields_of(response) == {"body"}


def test_a_huge_integer_is_400_naming_its_field(client: TestClient) -> None:
    """A 5000-digit number is valid JSON but no value of any field: refused naming the field, not 500."""
    content = b'{"user_id":' + b"1" * 5000 + b"}"
    response = client.post(START, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "user_id" in fields_of(response)


def test_unknown_and_mistyped_fields_are_named(client: TestClient) -> None:
    response = client.post(START, json=request_body(performer=1, is_training_data=[1]))
    assert response.status_code == 400
    assert fields_of(response) == {"performer", "is_training_data"}


def test_openapi_document_is_served_and_valid(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    for path in (START, END):
        assert "post" in document["paths"][path]
