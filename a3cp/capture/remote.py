"""The ingest role's capture pipeline: forward each bounded capture to the extractor process over HTTP.

`RemoteCaptureService` and its `RemoteCapture` implement the capture pipeline seam (a3cp.capture.pipeline)
like the local pipeline, so the HTTP and WebSocket ingest routes work unchanged. Each capture is one
streamed `POST {A3CP_EXTRACTOR_URL}/internal/extractor/captures` (multipart/form-data, parsed on the
other side by the one capture ingest parser, web.capture_ingest): a `spec` part (the CaptureSpec
JSON), then per frame an optional `timestamp_ms` part and the `frame` part, then a `finish` part
(`{"timestamp_end": ...}`). The extractor records only after the whole body, `finish` included, has
arrived. Frames go out as they arrive through a small bounded queue; nothing is written to disk here.

Timeouts and retries (docs/deployment.md):
- connect 2 s, write 30 s, read 60 s (the wait for the extractor's answer after the last part).
- Retried: only a failure to connect (nothing of the capture was sent yet), up to CONNECT_ATTEMPTS
  times with a short backoff. A capture is identified by its record_id and the extractor is
  deterministic, so a resend of the same frames yields the same file, hash and single event.
- Not retried: anything after the first byte was sent (the extractor died or stalled mid-capture):
  503 `extractor_unavailable`, and the extractor's abort path leaves no file and no event.
- An answer from the extractor (201, or an error body) is relayed with its code, field and message; the
  extractor's own capture policy and session checks made it, so ingest answers exactly as one process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from a3cp.capture.pipeline import LatestFrame, epoch_ms, timestamp_text
from a3cp.domain.capture import policy_for
from a3cp.domain.errors import DomainError
from a3cp.faults import ExtractorUnavailable
from a3cp.schemas import CaptureSpec

EXTRACTOR_PATH = "/internal/extractor/captures"
TIMEOUTS = httpx.Timeout(connect=2.0, write=30.0, read=60.0, pool=2.0)
CONNECT_ATTEMPTS = 3
CONNECT_BACKOFF_S = 0.5
QUEUE_PARTS = 8


class ExtractorRejected(DomainError):
    """The extractor refused the capture: its code, field and message, relayed as they came."""

    def __init__(self, body: dict[str, Any]) -> None:
        fields = body.get("fields") or []
        field = fields[0].get("field") if fields and isinstance(fields[0], dict) else None
        super().__init__(str(body.get("message", "the extractor rejected the capture")), field)
        self.code = str(body.get("error", "extractor_error"))


class RemoteCaptureService:
    """Stands in for CaptureService in the ingest role: opens captures on the extractor process."""

    def __init__(self, extractor_url: str) -> None:
        self.url = extractor_url.rstrip("/") + EXTRACTOR_PATH

    async def open_async(self, spec: CaptureSpec) -> RemoteCapture:
        """Check the declared rules here (cheap, pure), then start streaming to the extractor."""
        policy_for(spec)
        return RemoteCapture(self.url, spec.model_dump_json(exclude_none=True).encode())


class RemoteCapture:
    """One capture in flight to the extractor: push frames, then finish (its 201 body) or abort."""

    def __init__(self, url: str, spec_json: bytes) -> None:
        self._url = url
        self._boundary = uuid.uuid4().hex
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_PARTS)
        self._sent_any = False
        self._closed = False
        self._queue.put_nowait(self._part("spec", "application/json", spec_json))
        self._task = asyncio.create_task(self._send())

    async def push(self, image: bytes, timestamp: datetime | int | None = None) -> None:
        """Queue one encoded frame; raises at once if the extractor went away or refused the capture."""
        stamp = epoch_ms(timestamp)
        head = b"" if stamp is None else self._part("timestamp_ms", "text/plain", str(stamp).encode())
        await self._put(head + self._part("frame", "application/octet-stream", image))

    async def finish(self, timestamp_end: datetime | str | None = None) -> dict[str, Any]:
        """Send the `finish` part and the closing boundary; returns the extractor's 201 body."""
        end = json.dumps({"timestamp_end": timestamp_text(timestamp_end)}).encode()
        await self._put(self._part("finish", "application/json", end))
        await self._put(None)
        try:
            return await self._task
        finally:
            self._closed = True

    async def abort(self) -> None:
        """Drop the capture: the connection closes before `finish`, so the extractor records nothing."""
        if self._closed:
            return
        self._closed = True
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, DomainError, ExtractorUnavailable):
            pass

    def latest_frame(self) -> LatestFrame | None:
        """Always None: the extractor answers once, after the whole request body (docs/capture.md, "Live
        preview"), so no tracked frame comes back while the capture streams; ingest sends no preview."""
        return None

    async def _put(self, item: bytes | None) -> None:
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
        if self._task.done():
            self._task.result()  # raises why the extractor stopped
            if item is not None:
                raise ExtractorUnavailable("the landmark extractor answered before the capture was complete")

    async def _send(self) -> dict[str, Any]:
        headers = {"content-type": f"multipart/form-data; boundary={self._boundary}"}
        async with httpx.AsyncClient(timeout=TIMEOUTS) as client:
            for attempt in range(1, CONNECT_ATTEMPTS + 1):
                try:
                    response = await client.post(self._url, content=self._body(), headers=headers)
                    break
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    if self._sent_any or attempt == CONNECT_ATTEMPTS:
                        raise ExtractorUnavailable(f"cannot reach the landmark extractor: {exc}") from exc
                    await asyncio.sleep(CONNECT_BACKOFF_S * attempt)
                except httpx.TransportError as exc:
                    raise ExtractorUnavailable("the landmark extractor went away during the capture") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ExtractorUnavailable("the landmark extractor sent an unreadable answer") from exc
        if response.status_code != 201 or not isinstance(body, dict):
            raise ExtractorRejected(body if isinstance(body, dict) else {})
        return body

    async def _body(self) -> AsyncIterator[bytes]:
        self._sent_any = True
        while (item := await self._queue.get()) is not None:
            yield item
        yield f"--{self._boundary}--\r\n".encode()

    def _part(self, name: str, content_type: str, data: bytes) -> bytes:
        head = (
            f'--{self._boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        return head.encode() + data + b"\r\n"
