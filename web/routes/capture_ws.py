"""`WS /camera_feed_worker/capture`: one bounded capture per connection, upstream A3CP's messages.

The socket speaks the protocol (a3cp.schemas.capture_ws), the pure state machine
(a3cp.domain.capture_stream) checks order and limits as frames arrive, and the capture pipeline's
async adapter extracts landmarks while frames stream in (small bounded queue, worker thread).
Malformed JSON closes 1003; a schema or protocol error closes 1008; a limit or a session that is no
longer active sends `capture.abort` then closes. Success sends `capture.result` (the HTTP endpoint's
201 body) and closes 1000. Any other end - abort, timeout, dropped connection - aborts the pipeline,
which leaves no feature file and no event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from a3cp.config import MAX_FPS, MAX_FRAME_PIXELS
from a3cp.domain.capture_stream import (
    CLOSE_NORMAL,
    CLOSE_POLICY_VIOLATION,
    CLOSE_UNSUPPORTED_DATA,
    CaptureStream,
    Identity,
    StreamViolation,
    limit_error,
    protocol_error,
)
from a3cp.domain.errors import DomainError
from a3cp.schemas import (
    CAPTURE_CLIENT_MESSAGE,
    SYSTEM_PERFORMER,
    CaptureAbort,
    CaptureClose,
    CaptureFrameMeta,
    CaptureOpen,
    CaptureResult,
    CaptureSpec,
    parse_timestamp,
    utc_now,
)
from web.openapi import Operation

logger = logging.getLogger("a3cp.web.capture_ws")
PATH = "/camera_feed_worker/capture"

# Domain error codes of the capture service -> upstream's abort error_codes.
_ABORT_CODES = {
    "session_not_found": "session_invalid",
    "session_user_mismatch": "session_invalid",
    "session_closed": "session_closed",
}


class ClientGone(Exception):
    """The client closed or dropped the connection."""


def _parse(message: dict[str, Any]) -> CaptureOpen | CaptureFrameMeta | CaptureClose | bytes:
    """A received WebSocket message as bytes or a validated control message."""
    if message["type"] == "websocket.disconnect":
        raise ClientGone()
    if message.get("bytes") is not None:
        return bytes(message["bytes"])
    try:
        data = json.loads(message.get("text") or "")
    except (ValueError, RecursionError):
        raise StreamViolation("malformed_json", "message is not valid JSON", CLOSE_UNSUPPORTED_DATA) from None
    try:
        return CAPTURE_CLIENT_MESSAGE.validate_python(data)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "message" for e in exc.errors()}))
        raise StreamViolation(
            "schema_violation", f"invalid fields: {fields}", CLOSE_POLICY_VIOLATION
        ) from None


class CaptureConnection:
    """One connection's capture: the socket, the protocol state, the pipeline's adapter."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self.services = websocket.app.state.services
        self.settings = self.services.settings
        self.open: CaptureOpen | None = None
        self.stream: CaptureStream | None = None
        self.pipeline: Any = None
        self.finished = False
        self.last_session_check = 0.0

    async def run(self) -> None:
        await self.ws.accept()
        try:
            await self._serve()
        except ClientGone:
            logger.info("capture client went away; capture discarded")
        except StreamViolation as violation:
            await self._abort(violation)
        except DomainError as exc:
            code = _ABORT_CODES.get(exc.code, exc.code)
            await self._abort(limit_error(code, exc.message))
        except Exception:
            logger.exception("capture failed")
            await self._abort(StreamViolation("internal_error", "the server failed", 1011))
        finally:
            if self.pipeline is not None and not self.finished:
                await self.pipeline.abort()

    async def _receive(self, timeout: float) -> CaptureOpen | CaptureFrameMeta | CaptureClose | bytes:
        try:
            message = await asyncio.wait_for(self.ws.receive(), timeout)
        except TimeoutError:
            if self.stream is not None and self.stream.awaiting_bytes:
                late = "frame bytes did not follow frame_meta in time"
                raise protocol_error(late, "meta_to_bytes_timeout") from None
            raise protocol_error("no message within the idle timeout", "idle_timeout") from None
        return _parse(message)

    async def _serve(self) -> None:
        first = await self._receive(self.settings.ws_idle_timeout_s)
        if not isinstance(first, CaptureOpen):
            raise protocol_error("the first message must be capture.open")
        await self._open(first)
        while True:
            awaiting = self.stream is not None and self.stream.awaiting_bytes
            timeout = (
                self.settings.ws_meta_to_bytes_timeout_s if awaiting else self.settings.ws_idle_timeout_s
            )
            message = await self._receive(timeout)
            if isinstance(message, bytes):
                await self._frame_bytes(message)
            elif isinstance(message, CaptureFrameMeta):
                await self._frame_meta(message)
            elif isinstance(message, CaptureClose):
                await self._close(message)
                return
            else:
                raise protocol_error("capture.open may be sent once per connection")

    async def _open(self, message: CaptureOpen) -> None:
        self.open = message
        self.stream = CaptureStream(
            Identity(message.user_id, message.session_id, message.capture_id),
            parse_timestamp(message.timestamp_start),
            message.fps_target,
        )
        self.stream.seen_record_ids.add(message.record_id)
        self.pipeline = await open_pipeline(self.services, message)
        self.last_session_check = time.monotonic()

    def _check_envelope(self, message: CaptureFrameMeta | CaptureClose) -> None:
        assert self.stream is not None
        self.stream.check_envelope(message.record_id, message.user_id, message.session_id, message.capture_id)

    async def _frame_meta(self, message: CaptureFrameMeta) -> None:
        assert self.stream is not None
        self._check_envelope(message)
        self.stream.on_frame_meta(message.seq, parse_timestamp(message.timestamp_frame), message.byte_length)
        await self._recheck_session()

    async def _frame_bytes(self, data: bytes) -> None:
        assert self.stream is not None
        frame = self.stream.on_frame_bytes(len(data))
        await self.pipeline.push(data, frame.timestamp)

    async def _close(self, message: CaptureClose) -> None:
        assert self.stream is not None and self.open is not None
        self._check_envelope(message)
        self.stream.on_close(parse_timestamp(message.timestamp_end))
        body = await self.pipeline.finish(parse_timestamp(message.timestamp_end))
        self.finished = True
        result = CaptureResult.wrap(self._server_envelope(), body)
        await self.ws.send_text(result.model_dump_json(exclude_none=True))
        await self.ws.close(CLOSE_NORMAL)

    async def _recheck_session(self) -> None:
        """Abort when the session stopped being active (checked at most every ws_session_recheck_s)."""
        assert self.open is not None
        now = time.monotonic()
        if now - self.last_session_check < self.settings.ws_session_recheck_s:
            return
        self.last_session_check = now
        status = await run_in_threadpool(
            self.services.sessions.validate, self.open.user_id, self.open.session_id
        )
        if status == "closed":
            raise limit_error("session_closed", "the session was ended during the capture")
        if status != "active":
            raise limit_error("session_invalid", "the session is no longer valid")

    def _server_envelope(self) -> dict[str, Any]:
        assert self.open is not None
        return {
            "schema_version": self.open.schema_version,
            "record_id": self.open.record_id,
            "user_id": self.open.user_id,
            "session_id": self.open.session_id,
            "timestamp": utc_now(),
            "capture_id": self.open.capture_id,
        }

    async def _abort(self, violation: StreamViolation) -> None:
        """Tell the client why (when a capture was open), then close with the violation's code."""
        if self.ws.client_state != WebSocketState.CONNECTED:
            return
        try:
            if self.open is not None:
                abort = CaptureAbort.model_validate(
                    {
                        **self._server_envelope(),
                        "error_code": violation.error_code,
                        "message": violation.message,
                    }
                )
                await self.ws.send_text(abort.model_dump_json())
            await self.ws.close(violation.close_code, reason=violation.error_code)
        except (WebSocketDisconnect, RuntimeError, OSError):
            logger.info("capture client left before the abort was delivered")


async def open_pipeline(services: Any, message: CaptureOpen) -> Any:
    """Check the open's fps and size (upstream's limit codes), then open the shared capture pipeline."""
    if message.fps_target > MAX_FPS:
        raise limit_error("limit_fps_exceeded", f"fps_target over {MAX_FPS:g}")
    if message.width > 640 or message.height > 480 or message.width * message.height > MAX_FRAME_PIXELS:
        raise limit_error("limit_resolution_exceeded", "frames larger than 640x480")
    spec = CaptureSpec(
        schema_version=message.schema_version,
        record_id=message.record_id,
        user_id=message.user_id,
        timestamp=message.timestamp,
        session_id=message.session_id,
        performer_id=message.performer_id or SYSTEM_PERFORMER,
        capture_id=message.capture_id,
        timestamp_start=message.timestamp_start,
        fps=message.fps_target,
        width=message.width,
        height=message.height,
        annotation=message.annotation,
    )
    return await services.captures.open_async(spec)


async def capture_endpoint(websocket: WebSocket) -> None:
    await CaptureConnection(websocket).run()


routes = [WebSocketRoute(PATH, capture_endpoint)]
operations: list[Operation] = []
