"""Run one whole WebSocket capture through a TestClient and return the server's last message; read
every message of a capture until the server closes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.testclient import TestClient

from tests.fixtures.ws_capture import Capture

WS_PATH = "/camera_feed_worker/capture"


def ws_capture(client: TestClient, capture: Capture, frames: Sequence[bytes], seconds: float = 3.0) -> Any:
    """open, frame_meta + bytes per frame, close; the `capture.result` or `capture.abort` message."""
    with client.websocket_connect(WS_PATH) as ws:
        ws.send_text(capture.open())
        for seq, frame in enumerate(frames, start=1):
            ws.send_text(capture.meta(seq, len(frame)))
            ws.send_bytes(frame)
        ws.send_text(capture.close(seconds))
        return json.loads(ws.receive_text())


def outcome(ws: Any) -> tuple[list[dict[str, Any]], int]:
    """Every JSON message the server sends until it closes, and the close code."""
    messages = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return messages, int(message["code"])
        messages.append(json.loads(message["text"]))
