"""Cross-user: user A cannot end, capture into, or read the captures of user B's session.

Writes name their user in the body: A naming B's session_id with A's own user_id is refused
(sessions.end, HTTP capture, WebSocket capture) and nothing is written anywhere: the whole DATA_ROOT
and LOG_ROOT trees are byte-identical afterwards (no line in B's log, no directory for A, no feature
file). Reads name their caller in the X-A3CP-User-Id header: another user's session, list, record
and verify badge are 404, identical to the answer for an id that does not exist. The header is a
claimed identity, not authentication (docs/projection.md).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.storage_layout import ID_PATTERN
from bench.client import CAPTURE_PATH, END, capture_meta, multipart, request_body, start_session
from bench.person import person_frames
from tests.fixtures.accounts import is_account_file
from tests.fixtures.ws_capture import Capture

OWNER = "bea"
ATTACKERS = ("al", "mallory")  # al has a session of her own, mallory has nothing on disk
WS_PATH = "/camera_feed_worker/capture"
UNKNOWN_SESSION = "sess_" + "0" * 32
CALLER_EXAMPLES = 60  # hypothesis: random callers reading bea's data (GETs only, well under a second)


def tree(settings: Settings) -> dict[str, bytes]:
    """Every file under DATA_ROOT and LOG_ROOT with its bytes, and every directory."""
    found: dict[str, bytes] = {}
    for root in (settings.data_root, settings.log_root):
        for path in sorted(root.rglob("*")):
            if not is_account_file(path):
                found[str(path)] = path.read_bytes() if path.is_file() else b"<dir>"
    return found


@pytest.fixture
def world(client: TestClient) -> dict[str, str]:
    """bea's active session with one real capture (tiny: 4 frames of 96x96, so MediaPipe runs briefly);
    al's own session (so al has a log directory)."""
    session_id = start_session(client, OWNER)
    meta = capture_meta(session_id, frames=4, user_id=OWNER, fps=2, width=96, height=96)
    created = client.post(CAPTURE_PATH, files=multipart(meta, person_frames(4, 96, 96)))
    assert created.status_code == 201, created.text
    start_record = client.get(
        f"/session_manager/sessions/{session_id}", headers={CALLER_HEADER: OWNER}
    ).json()["start_record_id"]
    start_session(client, "al")
    return {"session_id": session_id, "capture_record": meta["record_id"], "start_record": start_record}


def _end(client: TestClient, attacker: str, session_id: str) -> tuple[int, str]:
    response = client.post(END, json=request_body(attacker, session_id=session_id))
    return response.status_code, response.json()["error"]


def _http_capture(client: TestClient, attacker: str, session_id: str) -> tuple[int, str]:
    meta = capture_meta(session_id, user_id=attacker)
    response = client.post(CAPTURE_PATH, files=multipart(meta, person_frames(meta["frame_count"])))
    return response.status_code, response.json()["error"]


def _ws_capture(client: TestClient, attacker: str, session_id: str) -> tuple[int, str]:
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(Capture(session_id, user_id=attacker).open())
        message = ws.receive()
        assert json.loads(message["text"])["event"] == "capture.abort"
        closed = ws.receive()
    return int(closed["code"]), json.loads(message["text"])["error_code"]


ATTACKS = {
    "sessions.end": (_end, {(400, "session_user_mismatch")}),
    "HTTP capture (meta + 30 real frames)": (_http_capture, {(400, "session_user_mismatch")}),
    "WebSocket capture.open": (_ws_capture, {(1000, "session_invalid")}),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_another_user_cannot_end_or_capture_into_the_session(
    client: TestClient, settings: Settings, world: dict[str, str], attack: str, reliability_report: Any
) -> None:
    send, refusals = ATTACKS[attack]
    before = tree(settings)
    answers = [send(client, attacker, world["session_id"]) for attacker in ATTACKERS]
    assert set(answers) <= refusals, answers
    assert tree(settings) == before, "nothing written: no line in bea's log, no directory, no file"
    served = client.get(f"/session_manager/sessions/{world['session_id']}", headers={CALLER_HEADER: OWNER})
    assert served.json()["status"] == "active" and len(served.json()["captures"]) == 1
    end = client.post(END, json=request_body(OWNER, session_id=world["session_id"]))
    assert end.status_code == 200, "the owner still ends her own session"
    shown = ", ".join(sorted({f"{status} {code}" for status, code in answers}))
    reliability_report.add(
        f"Cross-user write: another user's {attack} naming the owner's session_id",
        len(answers),
        f"refused ({shown}); DATA_ROOT and LOG_ROOT byte-identical (no event, no directory, no file)",
    )


def _reads(session_id: str, record_id: str) -> dict[str, str]:
    return {
        "session": f"/session_manager/sessions/{session_id}",
        "record": f"/records/{record_id}",
        "verify": f"/records/{record_id}/verify",
    }


def _as(client: TestClient, caller: str, url: str) -> Any:
    return client.get(url, headers={CALLER_HEADER: caller})


def test_another_user_reads_not_found_exactly_like_a_missing_id(
    client: TestClient, world: dict[str, str], reliability_report: Any
) -> None:
    owned = {
        **_reads(world["session_id"], world["capture_record"]),
        "start record": f"/records/{world['start_record']}",
        "list": f"/session_manager/users/{OWNER}/sessions",
    }
    for name, url in owned.items():
        assert _as(client, OWNER, url).status_code == 200, name
    missing_record = str(uuid.uuid4())
    missing = {
        **_reads(UNKNOWN_SESSION, missing_record),
        "start record": f"/records/{missing_record}",
        "list": "/session_manager/users/nobody/sessions",
    }
    substitutions = {
        world["session_id"]: UNKNOWN_SESSION,
        world["capture_record"]: missing_record,
        world["start_record"]: missing_record,
        OWNER: "nobody",
    }
    checked = 0
    for attacker in ATTACKERS:
        for name, url in owned.items():
            theirs, absent = _as(client, attacker, url), _as(client, attacker, missing[name])
            assert theirs.status_code == absent.status_code == 404, (name, theirs.text)
            text = theirs.text
            for real, fake in substitutions.items():
                text = text.replace(real, fake)
            assert text == absent.text, f"{name}: another user's answer differs from a missing id's"
            checked += 1
        own = _as(client, attacker, f"/session_manager/users/{attacker}/sessions").json()["sessions"]
        assert world["session_id"] not in {s["session_id"] for s in own}
    reliability_report.add(
        "Cross-user read: another user reads the owner's session, session list, capture record, "
        "start record and verify badge",
        checked,
        f"all {checked} answered 404, byte-identical to the answer for an id that does not exist",
    )


def test_any_other_caller_sees_nothing_of_the_owner(
    client: TestClient, world: dict[str, str], reliability_report: Any
) -> None:
    urls = [*_reads(world["session_id"], world["capture_record"]).values()]
    urls.append(f"/session_manager/users/{OWNER}/sessions")
    callers: list[str] = []

    @settings(
        max_examples=CALLER_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(caller=st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda value: value != OWNER))
    def check(caller: str) -> None:
        callers.append(caller)
        for url in urls:
            assert _as(client, caller, url).status_code == 404, (caller, url)

    check()
    reliability_report.add(
        "Cross-user read: random valid caller ids (hypothesis) read the owner's session, list, record "
        "and verify badge",
        len(callers) * len(urls),
        f"{len(callers)} callers x {len(urls)} reads: every one 404",
    )


BAD_HEADERS = [(None, 401), ("", 400), ("../bea", 400), ("bea bea", 400), ("x" * 65, 400), (b"bea\xe9", 400)]


def test_the_caller_header_is_required_and_validated(client: TestClient, reliability_report: Any) -> None:
    """Checked before anything else, so the ids need not exist."""
    urls = [*_reads(UNKNOWN_SESSION, str(uuid.uuid4())).values(), f"/session_manager/users/{OWNER}/sessions"]
    for header, status in BAD_HEADERS:
        for url in urls:
            headers = {} if header is None else {CALLER_HEADER: header}
            response = client.get(url, headers=headers)
            assert response.status_code == status, (url, response.text)
            assert [field["field"] for field in response.json()["fields"]] == [CALLER_HEADER]
            assert "Traceback" not in response.text
            if status == 401:
                assert CALLER_HEADER in response.headers["www-authenticate"]
    reliability_report.add(
        f"Read API without or with a malformed {CALLER_HEADER} header (missing, empty, path, space, "
        "65 chars, non-ASCII)",
        len(BAD_HEADERS) * len(urls),
        "missing: 401 JSON naming the header (with WWW-Authenticate); malformed: 400 JSON naming it",
    )


def test_openapi_declares_the_caller_header_on_every_read(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    reads = [path for path, operations in paths.items() if "get" in operations]
    assert len(reads) == 4, reads
    for path in reads:
        operation = paths[path]["get"]
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert headers == [headers[0]] and headers[0]["name"] == CALLER_HEADER and headers[0]["required"]
        assert {"401", "404", "503"} <= set(operation["responses"])
