"""The issue's end-to-end path with real MediaPipe (docs/recognition.md, *Service*): real-person captures
over the capture WebSocket are labelled (at capture time, and afterwards through curation), the recognizer
is built from them, a new capture with `"purpose": "recognize"` gets `capture.recognized`, the
`gesture.recognized` event is recorded, and a carer's correction relabels that capture into the
vocabulary. The gestures are the portrait moved side to side or up and down (tests/fixtures/moves.py)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.storage_layout import recognition_stream_path, user_stream_path
from bench.client import USER, start_session
from eventstore import read_log
from tests.fixtures.moves import move_frames
from tests.fixtures.ws_capture import Capture

PATH = "/camera_feed_worker/capture"
FPS, FRAMES = 5, 12  # 2.4 s takes: short, so MediaPipe's share of the test stays small


def capture(client: TestClient, session_id: str, move: str, seed: int, **open_fields: Any) -> list[Any]:
    """One WebSocket capture of a take of `move`; every JSON message the server sent."""
    take = Capture(session_id, user_id=USER, fps=FPS)
    frames = move_frames(move, seed, FRAMES)
    messages = []
    with client.websocket_connect(PATH) as ws:
        ws.send_text(take.open(**open_fields))
        for seq, frame in enumerate(frames, start=1):
            ws.send_text(take.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(take.close(seconds=FRAMES / FPS))
        while (message := ws.receive())["type"] != "websocket.close":
            messages.append(json.loads(message["text"]))
    assert messages[0]["event"] == "capture.result", messages
    return messages


def test_labelled_real_captures_recognize_a_new_one_and_a_correction_relabels(
    client: TestClient, settings: Settings
) -> None:
    session_id = start_session(client, USER)
    for seed in (0, 1):
        capture(client, session_id, "sweep", seed, annotation={"intent": "more"})
        [nod] = capture(client, session_id, "nod", seed)
        labelled = client.post(f"/records/{nod['record_id']}/label", json={"label": "stop"})
        assert labelled.status_code == 200, labelled.text
    vocabulary = client.get(f"/users/{USER}/vocabulary").json()
    assert [(entry["label"], entry["examples"]) for entry in vocabulary["labels"]] == [
        ("more", 2),
        ("stop", 2),
    ]

    result, recognized = capture(client, session_id, "nod", 2, purpose="recognize")
    assert recognized["event"] == "capture.recognized" and recognized["record_id"] == result["record_id"]
    assert recognized["label"] == "stop", recognized
    assert [score["label"] for score in recognized["scores"]] == ["stop", "more"]
    built, event = read_log(recognition_stream_path(settings, USER)).events
    assert built["event"] == "recognizer.built" and len(built["record_ids"]) == 4
    assert event["event"] == "gesture.recognized" and event["capture_record_id"] == result["record_id"]
    assert (
        event["decision"] == "stop" and event["model_hash"] == recognized["model_hash"] == built["model_hash"]
    )

    # The carer corrects it: that capture becomes an example of the corrected label.
    corrected = client.post(f"/records/{result['record_id']}/label", json={"label": "more"})
    assert corrected.status_code == 200 and corrected.json()["label"] == "more"
    last = read_log(user_stream_path(settings, USER)).events[-1]
    assert last["event"] == "capture.labeled" and last["capture_record_id"] == result["record_id"]
    vocabulary = client.get(f"/users/{USER}/vocabulary").json()
    assert {entry["label"]: entry["examples"] for entry in vocabulary["labels"]} == {"more": 3, "stop": 2}
    again = client.post(f"/users/{USER}/recognize", json={"record_id": result["record_id"]}).json()
    assert again["model_hash"] != recognized["model_hash"] and again["label"] == "more"
