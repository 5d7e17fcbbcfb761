"""Cross-user: user A cannot end, capture into, or read the captures of user B's session.

Writes name their user in the body: A naming B's session_id with A's own user_id is refused
(sessions.end, HTTP capture, WebSocket capture), and so is an account without a grant for B naming B
(403 forbidden); nothing is written anywhere: the whole DATA_ROOT and LOG_ROOT trees are byte-identical
afterwards (no line in B's log, no directory for A, no feature file; the account layer's audit records
aside). Reads are grant-based: an account not granted B reads B's session, list, record and verify badge
as 404, identical to the answer for an id that does not exist.
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
from tests.fixtures.accounts import FIXTURE_ACCOUNT, anonymous, is_account_file, other_account
from tests.fixtures.ws_capture import Capture

OWNER = "bea"
ATTACKERS = ("al", "mallory")  # al has a session of her own, mallory has nothing on disk
WS_PATH = "/camera_feed_worker/capture"
UNKNOWN_SESSION = "sess_" + "0" * 32
NOT_CALLERS = {OWNER, FIXTURE_ACCOUNT, "system", "anonymous"}  # bea, the carer granted her, reserved names
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
    start_record = client.get(f"/session_manager/sessions/{session_id}").json()["start_record_id"]
    start_session(client, "al")
    return {"session_id": session_id, "capture_record": meta["record_id"], "start_record": start_record}


# Who sends an attack: the fixture carer (granted every user it names), or (name, token headers).
Sender = tuple[str, dict[str, str]] | None


def _end(client: TestClient, user_id: str, session_id: str, sender: Sender = None) -> tuple[int, str]:
    performer, headers = sender or (FIXTURE_ACCOUNT, None)
    body = request_body(user_id, session_id=session_id, performer_id=performer)
    response = client.post(END, json=body, headers=headers)
    return response.status_code, response.json()["error"]


def _http_capture(
    client: TestClient, user_id: str, session_id: str, sender: Sender = None
) -> tuple[int, str]:
    performer, headers = sender or (FIXTURE_ACCOUNT, None)
    meta = capture_meta(session_id, user_id=user_id, performer_id=performer)
    files = multipart(meta, person_frames(meta["frame_count"]))
    response = client.post(CAPTURE_PATH, files=files, headers=headers)
    return response.status_code, response.json()["error"]


def _ws_capture(client: TestClient, user_id: str, session_id: str, sender: Sender = None) -> tuple[int, str]:
    with client.websocket_connect(WS_PATH, headers=dict(sender[1]) if sender else {}) as ws:
        ws.send_text(Capture(session_id, user_id=user_id).open())  # performer omitted: the account
        message = ws.receive()
        assert json.loads(message["text"])["event"] == "capture.abort"
        closed = ws.receive()
    return int(closed["code"]), json.loads(message["text"])["error_code"]


ATTACKS = {
    "sessions.end": (_end, {(400, "session_user_mismatch")}, (403, "forbidden")),
    "HTTP capture (meta + 30 real frames)": (
        _http_capture,
        {(400, "session_user_mismatch")},
        (403, "forbidden"),
    ),
    "WebSocket capture.open": (_ws_capture, {(1000, "session_invalid")}, (1008, "forbidden")),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_another_user_cannot_end_or_capture_into_the_session(
    client: TestClient, settings: Settings, world: dict[str, str], attack: str, reliability_report: Any
) -> None:
    send, refusals, ungranted = ATTACKS[attack]
    stranger = ("carer02", other_account(client.app, "carer02", grants=ATTACKERS))  # not granted bea
    before = tree(settings)
    answers = [send(client, attacker, world["session_id"]) for attacker in ATTACKERS]
    assert set(answers) <= refusals, answers
    assert send(client, OWNER, world["session_id"], stranger) == ungranted, "no grant: refused"
    assert tree(settings) == before, "nothing written: no line in bea's log, no directory, no file"
    served = client.get(f"/session_manager/sessions/{world['session_id']}")
    assert served.json()["status"] == "active" and len(served.json()["captures"]) == 1
    end = client.post(END, json=request_body(OWNER, session_id=world["session_id"]))
    assert end.status_code == 200, "the owner still ends her own session"
    shown = ", ".join(sorted({f"{status} {code}" for status, code in answers}))
    reliability_report.add(
        f"Cross-user write: another user's {attack} naming the owner's session_id",
        len(answers),
        f"refused ({shown}; an account without a grant naming bea: {ungranted[0]} {ungranted[1]}); "
        "DATA_ROOT and LOG_ROOT byte-identical (no event, no directory, no file)",
    )


def _reads(session_id: str, record_id: str) -> dict[str, str]:
    return {
        "session": f"/session_manager/sessions/{session_id}",
        "record": f"/records/{record_id}",
        "verify": f"/records/{record_id}/verify",
    }


def _as(client: TestClient, caller: str, url: str) -> Any:
    """GET `url` as the account `caller`, granted only its namesake user (never bea)."""
    tokens = client.app.state.test_tokens = getattr(client.app.state, "test_tokens", {})
    if caller not in tokens:
        tokens[caller] = other_account(client.app, caller, grants=(caller,))
    return client.get(url, headers=tokens[caller])


def test_another_user_reads_not_found_exactly_like_a_missing_id(
    client: TestClient, world: dict[str, str], reliability_report: Any
) -> None:
    owned = {
        **_reads(world["session_id"], world["capture_record"]),
        "start record": f"/records/{world['start_record']}",
        "list": f"/session_manager/users/{OWNER}/sessions",
    }
    for name, url in owned.items():
        assert client.get(url).status_code == 200, name
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
    @given(caller=st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda name: name not in NOT_CALLERS))
    def check(caller: str) -> None:
        callers.append(caller)
        for url in urls:
            assert _as(client, caller, url).status_code == 404, (caller, url)

    check()
    reliability_report.add(
        "Cross-user read: random accounts (hypothesis names, each granted only its namesake user) read "
        "the owner's session, list, record "
        "and verify badge",
        len(callers) * len(urls),
        f"{len(callers)} callers x {len(urls)} reads: every one 404",
    )


BAD_CREDENTIALS = [
    None,
    "",
    "Bearer",
    "Bearer nonsense",
    "Bearer a3cp_0000000000000000_" + "A" * 43,
    "Basic YmVhOmJlYQ==",
    "Bearer " + "x" * 5000,
]


def test_reads_need_an_account(client: TestClient, reliability_report: Any) -> None:
    """Checked before anything else, so the ids need not exist."""
    urls = [*_reads(UNKNOWN_SESSION, str(uuid.uuid4())).values(), f"/session_manager/users/{OWNER}/sessions"]
    nobody = anonymous(client)
    for credential in BAD_CREDENTIALS:
        for url in urls:
            headers = {} if credential is None else {"Authorization": credential}
            response = nobody.get(url, headers=headers)
            assert response.status_code == 401, (url, credential, response.text)
            assert response.json()["error"] == "unauthenticated"
            assert "Traceback" not in response.text
            assert "Bearer" in response.headers["www-authenticate"]
    reliability_report.add(
        "Read API without an account or with bad credentials (none, empty, bare scheme, unknown or "
        "well-formed fake token, Basic, 5000-char token)",
        len(BAD_CREDENTIALS) * len(urls),
        "every one 401 JSON `unauthenticated` (with WWW-Authenticate: Bearer)",
    )


# Every read outside the account pages, and what its answers must declare beyond 200 and 401: a person's
# data 404 (not found or not granted), a read through the projection 503 (down); the account's own lists
# (texts, its exports) neither.
READS = {
    "/session_manager/sessions/{session_id}": {"404", "503"},
    "/session_manager/users/{user_id}/sessions": {"404", "503"},
    "/records/{record_id}": {"404", "503"},
    "/records/{record_id}/verify": {"404", "503"},
    "/records/{record_id}/landmarks": {"404", "410", "503"},
    "/users/{user_id}/consent": {"404"},
    "/users/{user_id}/vocabulary": {"404", "503"},
    "/consent/texts": set(),
    "/exports": set(),
    "/exports/{export_id}": {"404"},
}


def test_openapi_declares_the_security_schemes_on_every_read(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"cookieAuth", "bearerAuth"}
    paths = document["paths"]
    reads = {
        path
        for path, operations in paths.items()
        if "get" in operations and not path.startswith(("/admin", "/audit", "/auth"))
    }
    assert reads == set(READS), reads ^ set(READS)  # a new read is added to the table, with its answers
    for path, answers in READS.items():
        operation = paths[path]["get"]
        assert operation["security"] == [{"cookieAuth": []}, {"bearerAuth": []}]
        assert not [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert {"200", "401"} | answers <= set(operation["responses"]), path
