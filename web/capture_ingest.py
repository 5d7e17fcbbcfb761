"""The one multipart capture parser: each route names its part grammar, this drives the capture pipeline.

A capture upload is a JSON declaration part first, then `frame` parts in capture order, each optionally
preceded by a part giving its time, then optionally a closing JSON part. Parts are handed over as they
stream in (web.multipart_stream), so extraction runs while the upload continues. The rules of the capture
itself (counts, times, limits) are the capture policy's, applied by the pipeline; this module only checks
which part may come where.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import Message

from a3cp.capture.pipeline import CapturePipeline, OpenCapture
from a3cp.config import MAX_CAPTURE_BYTES, MAX_FRAME_BYTES, MAX_JSON_BODY_BYTES
from a3cp.schemas import CaptureFinish, CaptureSpec, FieldError
from web.body import Prepare, parse_json
from web.errors import RequestRejected
from web.multipart_stream import stream_parts

logger = logging.getLogger("a3cp.web.capture_ingest")
FRAME_PART = "frame"
EPOCH_MS_DIGITS = 16  # epoch milliseconds until the year 318857; a longer "number" is not a time
Admit = Callable[[CaptureSpec], None]  # raises when the capture's declaration is refused


@dataclass(frozen=True)
class Admission:
    """Who may record this upload: `prepare` fixes the opening part's raw JSON (the performer_id),
    `admit` checks the validated declaration (the grant) before any capture is opened."""

    prepare: Prepare
    admit: Admit


@dataclass(frozen=True)
class PartGrammar:
    """The parts one route accepts: `opening` (JSON, first), frames, optional `frame_time` before a
    frame, optional `closing` (JSON, last). `drain_on_error` reads the rest of the body before an error
    answer, so a sender still streaming (ingest forwarding to the extractor) gets it, not a reset."""

    opening: str
    spec_model: type[CaptureSpec]
    frame_time: str | None = None
    closing: str | None = None
    drain_on_error: bool = False

    def part_limit(self, name: str) -> int:
        return (
            MAX_JSON_BODY_BYTES if name in (self.opening, self.frame_time, self.closing) else MAX_FRAME_BYTES
        )


def _rejected(field: str, message: str) -> RequestRejected:
    return RequestRejected(400, "validation_error", message, [FieldError(field=field, message=message)])


def _epoch_ms_part(name: str, raw: bytes) -> int:
    text = raw.decode("ascii", errors="replace")
    if not text.isascii() or not text.isdigit() or len(text) > EPOCH_MS_DIGITS:
        raise _rejected(name, f"{name} must be epoch milliseconds")
    return int(text)


class _TrackedBody:
    """The request's receive channel, noting when the body has ended (or the peer left)."""

    def __init__(self, request: Request) -> None:
        self._receive = request.receive
        self.ended = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.ended = True
        return message

    async def drain(self) -> None:
        """Read what is left of the body (bounded by the sender's caps) so the answer is delivered."""
        while not self.ended:
            await self.receive()


class _Upload:
    """One upload's place in its grammar: which parts have been seen, the capture they opened."""

    def __init__(self, grammar: PartGrammar, pipeline: CapturePipeline, admission: Admission | None) -> None:
        self.grammar = grammar
        self.pipeline = pipeline
        self.admission = admission
        self.capture: OpenCapture | None = None
        self.frame_ms: int | None = None
        self.closed = False
        self.timestamp_end: str | None = None

    async def take(self, name: str, data: bytes) -> None:
        grammar = self.grammar
        if self.capture is None:
            if name != grammar.opening:
                raise _rejected(grammar.opening, f"the first part must be `{grammar.opening}`")
            admission = self.admission
            spec = parse_json(data, grammar.spec_model, name, admission.prepare if admission else None)
            if admission is not None:
                admission.admit(spec)
            self.capture = await self.pipeline.open_async(spec)
        elif self.closed:
            raise _rejected(name or "body", f"unexpected part {name!r} after `{grammar.closing}`")
        elif name == FRAME_PART:
            await self.capture.push(data, self.frame_ms)
            self.frame_ms = None
        elif grammar.frame_time is not None and name == grammar.frame_time:
            self.frame_ms = _epoch_ms_part(name, data)
        elif grammar.closing is not None and name == grammar.closing:
            self.timestamp_end = parse_json(data, CaptureFinish, name).timestamp_end
            self.closed = True
        else:
            raise _rejected(name or "body", f"unexpected part {name!r}; expected `{FRAME_PART}`")

    async def finish(self) -> dict[str, Any]:
        grammar = self.grammar
        if self.capture is None:
            raise _rejected(grammar.opening, f"the `{grammar.opening}` part is missing")
        if grammar.closing is not None and not self.closed:
            raise _rejected(grammar.closing, f"the capture ended without its `{grammar.closing}` part")
        return await self.capture.finish(self.timestamp_end)


async def ingest_capture(
    request: Request, grammar: PartGrammar, pipeline: CapturePipeline, admission: Admission | None = None
) -> dict[str, Any]:
    """Stream the upload into `pipeline` part by part; the 201 body. Any error leaves nothing recorded.
    `admission` (None on the extractor's internal endpoint, behind the authenticated ingest) decides
    whether the account may record it."""
    body = _TrackedBody(request)
    upload = _Upload(grammar, pipeline, admission)
    try:
        async for name, data in stream_parts(
            Request(request.scope, body.receive), MAX_CAPTURE_BYTES, grammar.part_limit
        ):
            await upload.take(name, data)
        return await upload.finish()
    except Exception as exc:
        code = getattr(exc, "code", type(exc).__name__)
        logger.info("capture upload %s ended without a record: %s: %s", request.url.path, code, exc)
        if grammar.drain_on_error:
            await body.drain()
        raise
    finally:
        if upload.capture is not None:
            await upload.capture.abort()
