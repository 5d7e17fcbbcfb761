"""`WS /camera_feed_worker/capture`: one bounded capture per connection, upstream A3CP's messages.

The same endpoint is served under upstream's paths too (`/api/camera_feed_worker/capture`, which
upstream's browser client opens, and the legacy `.../ws`), so upstream's client works unchanged.

The socket speaks the protocol (a3cp.schemas.capture_ws) and keeps only its framing: message order,
the envelope every message repeats, each frame_meta paired with the bytes that follow it, timeouts.
Every capture rule (duration, fps, resolution, frame and byte caps, seq and time order, the server-clock
deadline) is the capture policy's (a3cp.domain.capture_policy), fed as each frame_meta arrives so a
breach aborts before the bytes; the capture pipeline extracts landmarks while frames stream in. Each
refusal's abort code and close code come from the error table (web/error_table.py): malformed JSON
closes 1003, a schema or protocol error 1008, a capture rule or a session no longer active sends
`capture.abort` then closes 1000, a full server (`capacity_exhausted`, `extraction_behind`) 1013. Every
refusal, a message that fails validation included, first sends `capture.abort` naming the reason and the
fields at fault, never a bare close. Success sends `capture.result` (the HTTP endpoint's 201 body) and
closes 1000 (a capture opened with `"purpose": "recognize"` is, after the capture's own open checks,
refused unless a recognizer can be built for the person, and after `capture.result` answers
`capture.recognized`, with label null and the reason when no recognition could be made,
docs/recognition.md); a client that
closes right after capture.close, as upstream's does, still gets its capture recorded. A capture.open
with `"preview": true` also gets `capture.preview` (the newest tracked frame's pose and hands, throttled
by a3cp.landmarks.preview), sent as frames arrive; without it, none. Every other end is logged once and
aborts the pipeline, which leaves no feature file and no event.

The socket is read all the time, also while extraction is behind: received frames wait in a bounded
backlog (`FrameFeed`) for the pipeline, so the protocol keeps answering the client's pings; a backlog
past EXTRACTION_BACKLOG_FRAMES aborts the capture `extraction_behind` rather than stalling the socket
until the client's keepalive gives up. The server clock (`clock`, replaceable in tests) bounds every
capture to MAX_CAPTURE_SECONDS + CAPTURE_WALL_GRACE_S after its open, whatever its frame times say.

The upgrade must prove an account (cookie, with this service's own Origin, or a Bearer token): otherwise
it is refused before accept (HTTP 401/403 naming the reason) and nothing is read. capture.open must name
a user granted to a carer account, and a performer_id that is the account's (or none): otherwise
`capture.abort` (forbidden / performer_mismatch) and close 1008. A capture that was opened is audited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from a3cp.accounts.policy import Action, Decision, Principal, authorize
from a3cp.capture.pipeline import CapturePipeline, OpenCapture
from a3cp.config import EXTRACTION_BACKLOG_FRAMES, Settings
from a3cp.domain.capture import epoch_ms_of
from a3cp.domain.capture_policy import CaptureDeclaration, CapturePolicy, ServerDeadline
from a3cp.domain.errors import DomainError, SessionAlreadyClosed, SessionNotFound
from a3cp.faults import ExtractionBehind, Fault
from a3cp.landmarks.preview import PreviewThrottle, preview_points
from a3cp.schemas import (
    CAPTURE_CLIENT_MESSAGE,
    AuditAction,
    CaptureAbort,
    CaptureClose,
    CaptureFrameMeta,
    CaptureOpen,
    CapturePreview,
    CaptureRecognized,
    CaptureResult,
    CaptureSpec,
    FieldError,
    Outcome,
    utc_now,
)
from a3cp.services.recognition import RecognitionService
from web.access import outcome_of, record_audit
from web.auth import websocket_principal
from web.body import load_json
from web.error_table import CLOSE_NORMAL, CLOSE_POLICY_VIOLATION, http_status, kind_of, ws_abort
from web.errors import STORAGE_FULL, error_response
from web.openapi import Operation

logger = logging.getLogger("a3cp.web.capture_ws")
PATH = "/camera_feed_worker/capture"
# Upstream mounts its API under /api and serves the same loop at /ws as well (docs/upstream.md).
UPSTREAM_PATHS = ("/api/camera_feed_worker/capture", "/api/camera_feed_worker/ws", "/camera_feed_worker/ws")
clock = time.monotonic  # the server clock of the capture deadline and session rechecks


class SessionChecks(Protocol):
    def validate(self, user_id: str, session_id: str) -> str: ...


class CaptureServices(Protocol):
    """What a capture connection uses of the app's services."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessions(self) -> SessionChecks: ...

    @property
    def captures(self) -> CapturePipeline: ...

    @property
    def recognition(self) -> RecognitionService: ...


class ClientGone(Exception):
    """The client closed or dropped the connection."""


class ProtocolViolation(Exception):
    """A message that breaks the protocol's framing; `code` is a row of the error table, `fields` the
    fields at fault. `received` is the refused message as parsed (its ids name the abort when no
    capture.open was accepted)."""

    code = "protocol_violation"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        fields: list[FieldError] | None = None,
        received: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or []
        self.received = received


@dataclass(frozen=True)
class _PendingFrame:
    """A frame_meta the policy admitted, waiting for its bytes."""

    timestamp_ms: int
    byte_length: int


class FrameFeed:
    """Frames on their way from the socket to the pipeline, at most `bound` waiting: `put` never waits,
    so the connection keeps reading the socket (and the protocol answering pings) while extraction
    catches up; a full backlog is `ExtractionBehind`. The pipeline's own errors surface on `put`/`drain`."""

    def __init__(self, pipeline: OpenCapture, bound: int) -> None:
        self._queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue(maxsize=bound)
        self._task = asyncio.create_task(self._feed(pipeline))

    def put(self, data: bytes, timestamp_ms: int) -> None:
        self._raise_failed()
        try:
            self._queue.put_nowait((data, timestamp_ms))
        except asyncio.QueueFull:
            raise ExtractionBehind(
                f"more than {self._queue.maxsize} frames were waiting for extraction"
            ) from None

    async def drain(self) -> None:
        """Wait until every frame was handed to the pipeline (or raise why it stopped)."""
        self._raise_failed()
        end = asyncio.ensure_future(self._queue.put(None))
        await asyncio.wait({end, self._task}, return_when=asyncio.FIRST_COMPLETED)
        end.cancel()  # a no-op once queued; else the feed stopped and `self._task` says why
        await self._task

    def cancel(self) -> None:
        self._task.cancel()

    def _raise_failed(self) -> None:
        if self._task.done():
            self._task.result()

    async def _feed(self, pipeline: OpenCapture) -> None:
        while (frame := await self._queue.get()) is not None:
            await pipeline.push(*frame)


def _parse(message: Mapping[str, Any]) -> CaptureOpen | CaptureFrameMeta | CaptureClose | bytes:
    """A received WebSocket message as bytes or a validated control message."""
    if message["type"] == "websocket.disconnect":
        raise ClientGone()
    if message.get("bytes") is not None:
        return bytes(message["bytes"])
    try:
        data = load_json(message.get("text") or "")
    except (ValueError, RecursionError):
        raise ProtocolViolation("message is not valid JSON", "malformed_json") from None
    try:
        return CAPTURE_CLIENT_MESSAGE.validate_python(data)
    except ValidationError as exc:
        fields = _field_errors(exc)
        names = ", ".join(sorted({f.field for f in fields}))
        received = data if isinstance(data, dict) else None
        raise ProtocolViolation(f"invalid fields: {names}", "schema_violation", fields, received) from None


_EVENT_TAGS = {"capture.open", "capture.frame_meta", "capture.close"}


def _not_recognized(code: str, message: str) -> dict[str, Any]:
    """The fields of a capture.recognized that names no label, and why."""
    return {"label": None, "scores": [], "error_code": code, "message": message}


def _field_errors(exc: ValidationError) -> list[FieldError]:
    """The fields at fault, named as the client sent them (without the union's `event` tag)."""
    fields = []
    for error in exc.errors(include_url=False, include_input=False):
        location = [str(part) for part in error["loc"]]
        if location and location[0] in _EVENT_TAGS:
            location = location[1:]
        fields.append(FieldError(field=".".join(location) or "event", message=error["msg"]))
    return fields


class CaptureConnection:
    """One connection's capture: the socket, the framing state, the capture policy, the pipeline."""

    def __init__(self, websocket: WebSocket, principal: Principal) -> None:
        self.ws = websocket
        self.principal = principal
        self.services: CaptureServices = websocket.app.state.services
        self.settings = self.services.settings
        self.open: CaptureOpen | None = None
        self.policy: CapturePolicy | None = None
        self.pending: _PendingFrame | None = None
        self.seen_record_ids: set[str] = set()
        self.pipeline: OpenCapture | None = None
        self.feed: FrameFeed | None = None
        self.deadline: ServerDeadline | None = None
        self.finished = False
        self.last_session_check = 0.0
        self.preview: PreviewThrottle | None = None  # set when capture.open asked for previews

    async def run(self) -> None:
        await self.ws.accept()
        try:
            await self._serve()
        except ClientGone:
            logger.info("capture %s: the client went away; capture discarded", self._record_id())
            await self._audit(Outcome.FAILED)
        except ProtocolViolation as exc:
            await self._audit(outcome_of(exc))
            await self._abort(exc.code, exc.message, exc.fields, exc.received)
        except DomainError as exc:
            await self._audit(outcome_of(exc))
            fields = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
            await self._abort(exc.code, exc.message, fields)
        except Fault as exc:
            await self._audit(outcome_of(exc))
            await self._abort(exc.code, exc.message)
        except OSError as exc:
            logger.error("capture %s: storage error: %s", self._record_id(), exc)
            if exc.errno in STORAGE_FULL:
                await self._abort("insufficient_storage", "no space left to record the capture; retry later")
            else:
                await self._abort("storage_error", "the server could not store the capture")
        except Exception:
            logger.exception("capture %s failed", self._record_id())
            await self._audit(Outcome.FAILED)
            await self._abort("internal_error", "the server failed")
        finally:
            if self.feed is not None:
                self.feed.cancel()
            if self.pipeline is not None and not self.finished:
                await self.pipeline.abort()

    def _record_id(self) -> str:
        return self.open.record_id if self.open is not None else "(not opened)"

    async def _receive(self, timeout: float) -> CaptureOpen | CaptureFrameMeta | CaptureClose | bytes:
        left = self.deadline.remaining(clock()) if self.deadline is not None else timeout
        try:
            message = await asyncio.wait_for(self.ws.receive(), min(timeout, left))
        except TimeoutError:
            if self.deadline is not None:
                self.deadline.remaining(clock())  # the server clock's end comes first
            if self.pending is not None:
                late = "frame bytes did not follow frame_meta in time"
                raise ProtocolViolation(late, "meta_to_bytes_timeout") from None
            raise ProtocolViolation("no message within the idle timeout", "idle_timeout") from None
        return _parse(message)

    async def _serve(self) -> None:
        first = await self._receive(self.settings.ws_idle_timeout_s)
        if not isinstance(first, CaptureOpen):
            raise ProtocolViolation("the first message must be capture.open")
        await self._open(first)
        while True:
            timeout = (
                self.settings.ws_meta_to_bytes_timeout_s
                if self.pending is not None
                else self.settings.ws_idle_timeout_s
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
                raise ProtocolViolation("capture.open may be sent once per connection")

    def _admit(self, message: CaptureOpen) -> str:
        """The performer_id to record for this open: the account's, when it may capture for the user."""
        if message.performer_id is not None and message.performer_id != self.principal.account:
            raise ProtocolViolation("performer_id must be the authenticated account", "performer_mismatch")
        if authorize(self.principal, Action.CAPTURE, message.user_id) is not Decision.ALLOWED:
            raise ProtocolViolation(
                f"account {self.principal.account!r} may not capture this data", "forbidden"
            )
        return self.principal.account

    async def _open(self, message: CaptureOpen) -> None:
        self.open = message
        performer_id = self._admit(message)
        self.deadline = ServerDeadline(opened_s=clock())
        self.seen_record_ids.add(message.record_id)
        self.policy = CapturePolicy(
            CaptureDeclaration(
                start_ms=epoch_ms_of(message.timestamp_start),
                fps=message.fps_target,
                width=message.width,
                height=message.height,
            )
        )
        self.pipeline = await open_pipeline(self.services.captures, message, performer_id)
        if message.purpose == "recognize":
            # After the capture's own checks (session, consent, record_id): refused before any frame when
            # there is nothing to recognize; the recognizer itself is built when the capture is recorded.
            await run_in_threadpool(self.services.recognition.require_recognizable, message.user_id)
        self.feed = FrameFeed(self.pipeline, EXTRACTION_BACKLOG_FRAMES)
        self.preview = PreviewThrottle() if message.preview else None
        self.last_session_check = clock()
        logger.info("capture %s opened", message.record_id)

    def _check_envelope(self, message: CaptureFrameMeta | CaptureClose) -> None:
        """Same owner, session and capture as the open; a record_id never reused in the capture."""
        assert self.open is not None
        if (message.user_id, message.session_id) != (self.open.user_id, self.open.session_id):
            raise ProtocolViolation("user_id and session_id must stay those of capture.open")
        if message.capture_id != self.open.capture_id:
            raise ProtocolViolation("capture_id does not match the open capture")
        if message.record_id in self.seen_record_ids:
            raise ProtocolViolation("record_id was already used in this capture")
        self.seen_record_ids.add(message.record_id)

    async def _frame_meta(self, message: CaptureFrameMeta) -> None:
        assert self.policy is not None
        self._check_envelope(message)
        if self.pending is not None:
            raise ProtocolViolation("capture.frame_meta arrived while the previous frame's bytes were due")
        stamp = self.policy.admit(
            seq=message.seq,
            timestamp_ms=epoch_ms_of(message.timestamp_frame),
            byte_length=message.byte_length,
        )
        self.pending = _PendingFrame(stamp, message.byte_length)
        await self._recheck_session()

    async def _frame_bytes(self, data: bytes) -> None:
        assert self.feed is not None
        frame = self.pending
        if frame is None:
            raise ProtocolViolation("binary message without a preceding capture.frame_meta")
        if len(data) != frame.byte_length:
            raise ProtocolViolation(
                f"received {len(data)} bytes, frame_meta announced {frame.byte_length}",
                "byte_length_mismatch",
            )
        self.pending = None
        self.feed.put(data, frame.timestamp_ms)
        await self._send_preview()

    async def _send_preview(self) -> None:
        """The newest tracked frame's skeleton, when previews were asked for and one is due."""
        assert self.pipeline is not None
        latest = self.pipeline.latest_frame() if self.preview is not None else None
        if latest is None or self.preview is None or not self.preview.due(clock(), latest[0]):
            return
        frame, row = latest
        preview = CapturePreview.model_validate(
            {**self._server_envelope(), "frame": frame, **preview_points(row)}
        )
        try:
            await self.ws.send_text(preview.model_dump_json())
        except (WebSocketDisconnect, RuntimeError, OSError):
            raise ClientGone() from None  # as a disconnect seen on receive: the capture is discarded

    async def _close(self, message: CaptureClose) -> None:
        assert self.policy is not None and self.pipeline is not None and self.feed is not None
        self._check_envelope(message)
        if self.pending is not None:
            raise ProtocolViolation("capture.close arrived while a frame's bytes were due")
        self.policy.close(epoch_ms_of(message.timestamp_end))
        await self.feed.drain()
        body = await self.pipeline.finish(message.timestamp_end)
        self.finished = True
        logger.info("capture %s recorded: %s frames", message.record_id, body.get("T"))
        await self._audit(Outcome.OK)  # durable before the result is sent
        result = CaptureResult.wrap(self._server_envelope(), body)
        try:
            await self.ws.send_text(result.model_dump_json(exclude_none=True))
            if self.open is not None and self.open.purpose == "recognize":
                await self.ws.send_text(await self._recognized())
            await self.ws.close(CLOSE_NORMAL)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # Upstream's client closes right after capture.close without waiting for an answer: the
            # capture is recorded all the same, so this is no failure.
            logger.info("capture recorded; the client left before capture.result was delivered")

    async def _recognized(self) -> str:
        """The recorded capture recognized (docs/recognition.md): the capture.recognized message, audited
        as a recognition. When none can be made (no frame shows both shoulders, consent withdrawn, no
        vocabulary left, the server failed) it says why with label null: the capture is recorded all the
        same, and its audit stays the capture's success."""
        assert self.open is not None
        try:
            outcome = await run_in_threadpool(
                self.services.recognition.recognize_record,
                self.open.user_id,
                self.open.record_id,
                self.principal.account,
            )
        except (DomainError, Fault) as refusal:
            await self._audit(outcome_of(refusal), AuditAction.RECOGNIZE)
            answer: dict[str, Any] = _not_recognized(refusal.code, refusal.message)
        except Exception:  # the capture is recorded and its result sent: only the recognition failed
            logger.exception("recognition of capture %s failed", self.open.record_id)
            await self._audit(Outcome.FAILED, AuditAction.RECOGNIZE)
            answer = _not_recognized("internal_error", kind_of("internal_error").words)
        else:
            await self._audit(Outcome.OK, AuditAction.RECOGNIZE)
            answer = {
                "label": outcome.event.decision,
                "scores": [top.model_dump() for top in outcome.event.top],
                "model_hash": outcome.event.model_hash,
                "recognized_record_id": outcome.event.record_id,
            }
        recognized = CaptureRecognized.model_validate({**self._server_envelope(), **answer})
        return recognized.model_dump_json()

    async def _recheck_session(self) -> None:
        """Abort when the session stopped being active (checked at most every ws_session_recheck_s)."""
        assert self.open is not None
        now = clock()
        if now - self.last_session_check < self.settings.ws_session_recheck_s:
            return
        self.last_session_check = now
        status = await run_in_threadpool(
            self.services.sessions.validate, self.open.user_id, self.open.session_id
        )
        if status == "closed":
            raise SessionAlreadyClosed("the session was ended during the capture", "session_id")
        if status != "active":
            raise SessionNotFound("the session is no longer valid", "session_id")

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

    async def _audit(self, outcome: Outcome, action: AuditAction = AuditAction.CAPTURE) -> None:
        """The audit record of an opened capture, or of its recognition (a connection that never opened
        a capture touched no data)."""
        if self.open is None:
            return
        await run_in_threadpool(
            record_audit,
            self.ws,
            self.principal,
            action,
            outcome,
            user_id=self.open.user_id,
            object_id=self.open.record_id,
        )

    async def _abort(
        self,
        code: str,
        message: str,
        fields: list[FieldError] | None = None,
        received: Mapping[str, Any] | None = None,
    ) -> None:
        """Log it, tell the client why (naming the fields at fault), then close; codes from the table."""
        error_code, close_code = ws_abort(code)
        logger.info("capture %s aborted: %s: %s", self._record_id(), error_code, message)
        if self.ws.client_state != WebSocketState.CONNECTED:
            return
        body = {"error_code": error_code, "message": message, "fields": fields or []}
        abort = (
            CaptureAbort.model_validate({**self._server_envelope(), **body})
            if self.open is not None
            else CaptureAbort.refusing(received or {}, utc_now(), **body)
        )
        try:
            await self.ws.send_text(abort.model_dump_json())
            await self.ws.close(close_code, reason=error_code)
        except (WebSocketDisconnect, RuntimeError, OSError):
            logger.info("capture client left before the abort was delivered")


async def open_pipeline(captures: CapturePipeline, message: CaptureOpen, performer_id: str) -> OpenCapture:
    """Open the shared capture pipeline for an open whose declaration the policy has accepted."""
    spec = CaptureSpec(
        schema_version=message.schema_version,
        record_id=message.record_id,
        user_id=message.user_id,
        timestamp=message.timestamp,
        session_id=message.session_id,
        performer_id=performer_id,
        capture_id=message.capture_id,
        timestamp_start=message.timestamp_start,
        fps=message.fps_target,
        width=message.width,
        height=message.height,
        annotation=message.annotation,
    )
    return await captures.open_async(spec)


async def refuse_upgrade(websocket: WebSocket, code: str, message: str) -> None:
    """Refuse before accept: an HTTP error answer naming `code` where the server can send one, else a
    close (which the server answers with HTTP 403); either way not one message is read."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(http_status(code), code, message))
    else:
        await websocket.close(CLOSE_POLICY_VIOLATION, reason=code)


async def capture_endpoint(websocket: WebSocket) -> None:
    principal, reason = await websocket_principal(websocket)
    if principal is None:
        code = "unauthenticated" if reason == "unauthenticated" else "forbidden"
        await refuse_upgrade(websocket, code, reason)
        return
    await CaptureConnection(websocket, principal).run()


routes = [WebSocketRoute(path, capture_endpoint) for path in (PATH, *UPSTREAM_PATHS)]
operations: list[Operation] = []
