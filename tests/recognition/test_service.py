"""The recognition service through the app (docs/recognition.md, *Service*): the vocabulary, a recognizer
built from a person's labelled captures, recognitions over HTTP and the capture WebSocket, each recorded,
and a carer's correction becoming a new example. Consent is not enforced here (tests/recognition/
test_service_consent.py enforces it). The captures replay the committed real takes (tests/fixtures/
replay.py) through the real capture path, so every take is a real person's landmarks."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from a3cp.cli import main
from a3cp.config import Settings
from a3cp.recognition import build
from a3cp.services import recognition as recognition_service
from a3cp.services.recognition import RecognitionService
from a3cp.storage_layout import recognition_stream_path
from bench.client import USER, start_session
from bench.person import person_frames
from eventstore import read_log
from tests.fixtures.replay import FRAMES, ReplayTracker, capture_take, use_settings
from tests.fixtures.ws_capture import Capture

pytestmark = pytest.mark.usefixtures("replay")
EXAMPLES = 5  # takes per sign in the vocabulary; takes 5.. of each sign are queries
SIGNS = ("hello", "thanks")


def stream(settings: Settings, user_id: str = USER) -> list[dict[str, Any]]:
    return read_log(recognition_stream_path(settings, user_id)).events


def label_examples(
    client: TestClient, session_id: str, takes: dict[str, np.ndarray], signs: tuple[str, ...]
) -> dict[str, list[str]]:
    """EXAMPLES labelled captures of each sign; sign -> their record_ids."""
    return {
        sign: [
            capture_take(client, session_id, USER, takes[sign][index], sign)["record_id"]
            for index in range(EXAMPLES)
        ]
        for sign in signs
    }


def recognize(client: TestClient, record_id: str, user_id: str = USER) -> Any:
    return client.post(f"/users/{user_id}/recognize", json={"record_id": record_id})


@pytest.fixture
def session_id(client: TestClient) -> str:
    return start_session(client, USER)


def test_vocabulary_lists_labels_with_counts_and_quality(
    client: TestClient, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    assert client.get(f"/users/{USER}/vocabulary").json()["labels"] == []
    ids = label_examples(client, session_id, takes, ("hello", "thanks"))
    capture_take(client, session_id, USER, takes["hello"][9])  # no label: not an example
    body = client.get(f"/users/{USER}/vocabulary").json()
    assert body["trainable"] is True and body["examples"] == 2 * EXAMPLES
    assert [(entry["label"], entry["examples"]) for entry in body["labels"]] == [
        ("hello", EXAMPLES),
        ("thanks", EXAMPLES),
    ]
    hello = body["labels"][0]
    assert sorted(r["record_id"] for r in hello["records"]) == sorted(ids["hello"])
    assert set(hello["quality"]) >= {"pose", "left_hand", "right_hand"}
    assert all(0.0 <= value <= 1.0 for value in hello["quality"].values())


def test_a_labelled_sign_is_recognized_and_recorded(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    ids = label_examples(client, session_id, takes, ("hello", "seeyoulater", "thanks"))
    query = capture_take(client, session_id, USER, takes["thanks"][9])["record_id"]
    response = recognize(client, query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] == "thanks" and body["record_id"] == query
    assert body["scores"][0]["label"] == "thanks"
    assert [s["score"] for s in body["scores"]] == sorted((s["score"] for s in body["scores"]), reverse=True)
    built, recognized = stream(settings)
    assert built["event"] == "recognizer.built" and built["model_hash"] == body["model_hash"]
    assert built["record_ids"] == sorted(record_id for group in ids.values() for record_id in group)
    assert built["labels"] == {"hello": EXAMPLES, "seeyoulater": EXAMPLES, "thanks": EXAMPLES}
    assert recognized == body["event"]
    assert recognized["event"] == "gesture.recognized" and recognized["capture_record_id"] == query
    assert recognized["decision"] == "thanks" and recognized["session_id"] == session_id
    assert {"user_id", "timestamp", "record_id", "source", "performer_id"} <= set(recognized)
    assert recognized["performer_id"] == "carer01"
    # No biometric data in either event: ids, labels and scores only.
    assert "features" not in json.dumps([built, recognized]) and len(json.dumps(built)) < 4000
    again = recognize(client, query).json()
    assert again["scores"] == body["scores"] and again["model_hash"] == body["model_hash"]
    assert [e["event"] for e in stream(settings)] == ["recognizer.built", *["gesture.recognized"] * 2]


def test_an_unknown_gesture_is_not_sure(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "thanks"))
    answers = [
        recognize(client, capture_take(client, session_id, USER, takes["seeyoulater"][index])["record_id"])
        for index in range(5, 9)
    ]
    decisions = [answer.json()["label"] for answer in answers]
    assert decisions.count(None) >= 3, decisions
    assert all(len(answer.json()["scores"]) == 2 for answer in answers)
    assert [e["decision"] for e in stream(settings)[1:]] == decisions


def test_a_correction_makes_the_capture_an_example_and_rebuilds(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "thanks"))
    query = capture_take(client, session_id, USER, takes["seeyoulater"][6])["record_id"]
    first = recognize(client, query).json()
    corrected = client.post(f"/records/{query}/label", json={"label": "seeyoulater"})
    assert corrected.status_code == 200, corrected.text
    vocabulary = client.get(f"/users/{USER}/vocabulary").json()
    assert {entry["label"]: entry["examples"] for entry in vocabulary["labels"]}["seeyoulater"] == 1
    other = capture_take(client, session_id, USER, takes["seeyoulater"][7])["record_id"]
    second = recognize(client, other).json()
    assert second["model_hash"] != first["model_hash"]
    assert second["label"] == "seeyoulater"
    builds = [e for e in stream(settings) if e["event"] == "recognizer.built"]
    assert len(builds) == 2 and query in builds[1]["record_ids"] and query not in builds[0]["record_ids"]


def test_a_discarded_capture_is_no_example(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    ids = label_examples(client, session_id, takes, ("hello", "thanks"))
    query = capture_take(client, session_id, USER, takes["hello"][9])["record_id"]
    recognize(client, query)
    dropped = ids["hello"][0]
    assert client.post(f"/records/{dropped}/discard", json={"reason": "wrong person"}).status_code == 200
    recognize(client, query)
    first, second = (e for e in stream(settings) if e["event"] == "recognizer.built")
    assert dropped in first["record_ids"] and dropped not in second["record_ids"]
    assert second["labels"] == {"hello": EXAMPLES - 1, "thanks": EXAMPLES}


def test_same_examples_same_model_and_answers_in_a_new_process(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "seeyoulater", "thanks"))
    query = capture_take(client, session_id, USER, takes["hello"][10])["record_id"]
    body = recognize(client, query).json()
    services = client.app.state.services  # type: ignore[attr-defined]
    fresh = RecognitionService(settings, services.reads, services.consent)  # a new process's service
    outcome = fresh.recognize_record(USER, query, "carer01")
    assert outcome.event.model_hash == body["model_hash"]
    assert [[s.label, s.score] for s in outcome.event.top] == [
        [s["label"], s["score"]] for s in body["scores"]
    ]


def test_refusals_name_their_reason(
    client: TestClient, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    unlabelled = capture_take(client, session_id, USER, takes["hello"][0])["record_id"]
    response = recognize(client, unlabelled)
    assert response.status_code == 409 and response.json()["error"] == "no_vocabulary"
    label_examples(client, session_id, takes, ("hello",))
    missing = recognize(client, "0b0e4f52-5f1e-4c84-9a53-8f1e6c6e8a11")
    assert missing.status_code == 404 and missing.json()["error"] == "record_not_found"
    other = recognize(client, unlabelled, user_id="someone_else")
    assert other.status_code == 404  # another person's record is not theirs to recognize
    bad = client.post(f"/users/{USER}/recognize", json={"record": unlabelled})
    assert bad.status_code == 400 and {f["field"] for f in bad.json()["fields"]} >= {"record_id"}


def recognize_over_websocket(
    client: TestClient, capture: Capture, tracked: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """A `"purpose": "recognize"` capture of real frames whose tracking replays `tracked`: the
    capture.result, the capture.recognized and the close that followed."""
    ReplayTracker.queue.append(tracked)
    with client.websocket_connect("/camera_feed_worker/capture") as ws:
        ws.send_text(capture.open(width=320, height=320, purpose="recognize"))
        for seq, frame in enumerate(person_frames(FRAMES), start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(capture.close(seconds=3.0))
        return json.loads(ws.receive_text()), json.loads(ws.receive_text()), ws.receive()


def test_websocket_purpose_recognize_answers_capture_recognized(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "seeyoulater", "thanks"))
    capture = Capture(session_id, user_id=USER, fps=10)
    result, recognized, _ = recognize_over_websocket(client, capture, takes["hello"][8])
    assert result["event"] == "capture.result" and result["record_id"] == capture.record_id
    assert recognized["event"] == "capture.recognized" and recognized["record_id"] == capture.record_id
    assert recognized["label"] == "hello" and recognized["scores"][0]["label"] == "hello"
    event = stream(settings)[-1]
    assert event["event"] == "gesture.recognized" and event["capture_record_id"] == capture.record_id
    assert event["record_id"] == recognized["recognized_record_id"]
    assert event["model_hash"] == recognized["model_hash"]
    assert audit_trail(client, capture.record_id) == [("capture", "ok"), ("recognize", "ok")]


def test_websocket_recognize_without_vocabulary_is_refused_at_open(
    client: TestClient, session_id: str
) -> None:
    capture = Capture(session_id, user_id=USER, fps=10)
    with client.websocket_connect("/camera_feed_worker/capture") as ws:
        ws.send_text(capture.open(width=320, height=320, purpose="recognize"))
        abort = json.loads(ws.receive_text())
    assert abort["event"] == "capture.abort" and abort["error_code"] == "no_vocabulary"


def test_evaluate_user_runs_the_protocol_over_their_curated_captures(
    client: TestClient,
    settings: Settings,
    session_id: str,
    takes: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = label_examples(client, session_id, takes, ("hello", "seeyoulater", "thanks"))
    client.post(f"/records/{ids['thanks'][0]}/discard", json={"reason": "a bad take"})
    use_settings(monkeypatch, settings)
    assert main(["evaluate", "--user", USER, "--draws", "2", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    person = output["people"][USER]
    assert set(person) == {"1", "3"}  # thanks has 4 examples left: K = 5 leaves none to query
    assert person["3"]["queries"] == 2 * (2 * (EXAMPLES - 3) + (EXAMPLES - 1 - 3))
    assert person["3"]["accuracy"] >= 0.8
    assert main(["evaluate", "--user", USER, "--examples", "4"]) == 2
    assert "more examples per label than K" in capsys.readouterr().out
    assert main(["evaluate"]) == 2 and "either DIR or --user" in capsys.readouterr().out


def test_an_unusable_example_is_left_out_and_listed_as_such(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "thanks"))
    shoulderless = takes["hello"][5].copy()
    shoulderless[:, 11 * 4 : 13 * 4] = np.nan  # pose landmarks 11 and 12: no frame shows both shoulders
    bad = capture_take(client, session_id, USER, shoulderless, "hello")["record_id"]
    query = capture_take(client, session_id, USER, takes["thanks"][9])["record_id"]
    response = recognize(client, query)
    assert response.status_code == 200, response.text
    body = client.get(f"/users/{USER}/vocabulary").json()
    assert body["examples"] == 2 * EXAMPLES
    assert [(u["record_id"], u["label"]) for u in body["unusable"]] == [(bad, "hello")]
    assert "shoulders" in body["unusable"][0]["reason"]
    listed = {record["record_id"] for label in body["labels"] for record in label["records"]}
    assert bad not in listed
    built = [e for e in stream(settings) if e["event"] == "recognizer.built"][-1]
    assert bad not in built["record_ids"]


def audit_trail(client: TestClient, record_id: str) -> list[tuple[str, str]]:
    """(action, outcome) of the audit records about `record_id`, oldest first."""
    audit = client.app.state.accounts.audit  # type: ignore[attr-defined]
    return [(r.action.value, r.outcome.value) for r in audit.read(user_id=USER) if r.object_id == record_id]


def test_websocket_recognition_that_cannot_be_made_says_why_after_the_recorded_capture(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "thanks"))
    shoulderless = takes["hello"][8].copy()
    shoulderless[:, 11 * 4 : 13 * 4] = np.nan  # the query: no frame shows both shoulders
    capture = Capture(session_id, user_id=USER, fps=10)
    result, recognized, closed = recognize_over_websocket(client, capture, shoulderless)
    assert result["event"] == "capture.result" and result["record_id"] == capture.record_id
    assert recognized["event"] == "capture.recognized" and recognized["label"] is None
    assert recognized["error_code"] == "invalid_features" and "shoulders" in recognized["message"]
    assert closed["type"] == "websocket.close" and closed["code"] == 1000
    assert audit_trail(client, capture.record_id) == [("capture", "ok"), ("recognize", "failed")]


def test_a_server_failure_in_the_recognition_leaves_the_recorded_capture_recorded(
    client: TestClient,
    settings: Settings,
    session_id: str,
    takes: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a refusal but a fault after capture.result (here a bug): the capture stays recorded and
    audited ok, the answer says internal_error with label null, the socket closes 1000, and the failure
    is the recognition's audit record, not a second one of the capture."""
    label_examples(client, session_id, takes, ("hello", "thanks"))

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the recognizer")

    monkeypatch.setattr(client.app.state.services.recognition, "recognize_record", broken)  # type: ignore[attr-defined]
    capture = Capture(session_id, user_id=USER, fps=10)
    result, recognized, closed = recognize_over_websocket(client, capture, takes["hello"][8])
    assert result["event"] == "capture.result" and result["record_id"] == capture.record_id
    assert recognized["event"] == "capture.recognized" and recognized["label"] is None
    assert recognized["error_code"] == "internal_error"
    assert closed["type"] == "websocket.close" and closed["code"] == 1000
    assert audit_trail(client, capture.record_id) == [("capture", "ok"), ("recognize", "failed")]
    assert client.get(f"/records/{capture.record_id}").status_code == 200  # recorded, in the read model


def test_websocket_recognize_checks_the_capture_before_the_recognizer(
    client: TestClient, settings: Settings, session_id: str, takes: dict[str, np.ndarray]
) -> None:
    label_examples(client, session_id, takes, ("hello", "thanks"))
    capture = Capture("no_such_session", user_id=USER, fps=10)
    with client.websocket_connect("/camera_feed_worker/capture") as ws:
        ws.send_text(capture.open(width=320, height=320, purpose="recognize"))
        abort = json.loads(ws.receive_text())
    assert abort["event"] == "capture.abort" and abort["error_code"] == "session_invalid"
    assert not [e for e in stream(settings) if e["event"] == "recognizer.built"]  # nothing built for it


def test_one_persons_build_does_not_hold_up_another_persons_recognizer(
    client: TestClient,
    session_id: str,
    takes: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = "other01"
    slow = {capture_take(client, session_id, USER, takes[sign][0], sign)["record_id"] for sign in SIGNS}
    other_session = start_session(client, other)
    for sign in SIGNS:
        capture_take(client, other_session, other, takes[sign][1], sign)
    entered, release = threading.Event(), threading.Event()

    def held_build(examples: Any, **options: Any) -> Any:
        if slow & {i for ids in options["example_ids"].values() for i in ids}:
            entered.set()
            release.wait(30)
        return build(examples, **options)

    monkeypatch.setattr(recognition_service, "build", held_build)
    service = client.app.state.services.recognition  # type: ignore[attr-defined]
    first = threading.Thread(target=service.recognizer, args=(USER, "carer01"))
    first.start()
    try:
        assert entered.wait(30)
        second = threading.Thread(target=service.recognizer, args=(other, "carer01"))
        second.start()
        second.join(10)
        assert not second.is_alive()  # built while USER's build still runs
    finally:
        release.set()
        first.join(30)
