"""While a capture streams in and is extracted, the server keeps answering other requests: MediaPipe
runs on the capture's worker thread, never on the event loop's."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx

from a3cp.landmarks.holistic import HolisticTracker
from bench.client import CAPTURE_PATH, capture_meta, start_session
from bench.person import person_frames
from tests.fixtures.accounts import sign_in
from tests.fixtures.loop import run_in_fresh_loop
from web.app import create_app


def test_other_requests_are_answered_during_a_capture(settings, client, monkeypatch):
    tracking_threads: set[int] = set()
    original = HolisticTracker.features

    def features(self, rgb):
        tracking_threads.add(threading.get_ident())
        return original(self, rgb)

    monkeypatch.setattr(HolisticTracker, "features", features)
    session_id = start_session(client)
    frames = person_frames(30)
    meta = json.dumps(capture_meta(session_id)).encode()
    boundary = "frames-boundary"
    halfway = asyncio.Event()
    order: list[str] = []

    async def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'.encode() + meta + b"\r\n"
        for index, frame in enumerate(frames):
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="frame"\r\n\r\n'.encode()
            yield head + frame + b"\r\n"
            if index == len(frames) // 2:
                halfway.set()
                await asyncio.sleep(0.2)  # the client pauses mid-upload; extraction goes on meanwhile
        yield f"--{boundary}--\r\n".encode()

    async def scenario() -> int:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        headers = sign_in(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as http:

            async def capture() -> None:
                headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
                response = await http.post(CAPTURE_PATH, content=body(), headers=headers, timeout=120)
                assert response.status_code == 201, response.text
                order.append("capture")

            async def other() -> None:
                await halfway.wait()
                response = await http.post(
                    "/session_manager/sessions.validate",
                    json={"user_id": "elias01", "session_id": session_id},
                )
                assert response.json() == {"status": "active"}
                order.append("validate")

            await asyncio.gather(capture(), other())
        return threading.get_ident()

    loop_thread = run_in_fresh_loop(scenario())
    assert order == ["validate", "capture"]
    assert tracking_threads and loop_thread not in tracking_threads
