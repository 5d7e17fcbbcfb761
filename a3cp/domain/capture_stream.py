"""The WebSocket capture protocol as a pure state machine: message order, identity and streaming limits.

One instance per capture (per connection). It sees parsed messages and byte counts, never sockets or
files, and raises `StreamViolation` with a stable `error_code` (upstream A3CP's names where they exist)
and whether the fault is a protocol error (close 1008) or a limit crossed (abort, close 1000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from a3cp.config import (
    MAX_CAPTURE_BYTES,
    MAX_CAPTURE_SECONDS,
    MAX_FRAME_BYTES,
    MAX_FRAMES,
    MIN_CAPTURE_SECONDS,
)

CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008


class StreamViolation(Exception):
    """A message the capture cannot accept; the capture is aborted and nothing is recorded."""

    def __init__(self, error_code: str, message: str, close_code: int = CLOSE_POLICY_VIOLATION) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.close_code = close_code


def protocol_error(message: str, error_code: str = "protocol_violation") -> StreamViolation:
    return StreamViolation(error_code, message, CLOSE_POLICY_VIOLATION)


def limit_error(error_code: str, message: str) -> StreamViolation:
    return StreamViolation(error_code, message, CLOSE_NORMAL)


@dataclass(frozen=True)
class Identity:
    """Who the capture belongs to; every later message must repeat it."""

    user_id: str
    session_id: str
    capture_id: str


@dataclass(frozen=True)
class FrameAccepted:
    """A frame whose bytes matched its frame_meta."""

    seq: int
    timestamp: datetime
    byte_length: int


@dataclass
class CaptureStream:
    """Checks a capture's messages as they arrive: seq 1, 2, ...; non-decreasing times within the
    duration cap; bytes exactly as announced; frame and byte caps; one record_id per message."""

    identity: Identity
    start: datetime
    fps_target: int
    seen_record_ids: set[str] = field(default_factory=set)
    expected_seq: int = 1
    last_frame_at: datetime | None = None
    pending: FrameAccepted | None = None
    frames: int = 0
    total_bytes: int = 0

    @property
    def max_frames(self) -> int:
        return min(MAX_FRAMES, math.floor(MAX_CAPTURE_SECONDS * self.fps_target))

    @property
    def awaiting_bytes(self) -> bool:
        return self.pending is not None

    def check_envelope(self, record_id: str, user_id: str, session_id: str, capture_id: str) -> None:
        """Same owner, session and capture as the open; a record_id never reused in the capture."""
        if (user_id, session_id) != (self.identity.user_id, self.identity.session_id):
            raise protocol_error("user_id and session_id must stay those of capture.open")
        if capture_id != self.identity.capture_id:
            raise protocol_error("capture_id does not match the open capture")
        if record_id in self.seen_record_ids:
            raise protocol_error("record_id was already used in this capture")
        self.seen_record_ids.add(record_id)

    def on_frame_meta(self, seq: int, timestamp: datetime, byte_length: int) -> None:
        if self.pending is not None:
            raise protocol_error("capture.frame_meta arrived while the previous frame's bytes were due")
        if seq != self.expected_seq:
            raise protocol_error(f"seq {seq} out of order; expected {self.expected_seq}", "seq_out_of_order")
        floor = self.last_frame_at or self.start
        if timestamp < floor:
            raise protocol_error("timestamp_frame went backwards", "timestamp_out_of_order")
        if (timestamp - self.start).total_seconds() > MAX_CAPTURE_SECONDS:
            raise limit_error("limit_duration_exceeded", f"capture longer than {MAX_CAPTURE_SECONDS:g} s")
        if byte_length > MAX_FRAME_BYTES:
            raise limit_error("limit_frame_bytes_exceeded", f"frame over {MAX_FRAME_BYTES} bytes")
        if self.frames + 1 > self.max_frames:
            raise limit_error("limit_frame_count_exceeded", f"at most {self.max_frames} frames at this fps")
        if self.total_bytes + byte_length > MAX_CAPTURE_BYTES:
            raise limit_error("limit_total_bytes_exceeded", f"capture over {MAX_CAPTURE_BYTES} bytes")
        self.pending = FrameAccepted(seq, timestamp, byte_length)

    def on_frame_bytes(self, received: int) -> FrameAccepted:
        frame = self.pending
        if frame is None:
            raise protocol_error("binary message without a preceding capture.frame_meta")
        if received != frame.byte_length:
            raise protocol_error(
                f"received {received} bytes, frame_meta announced {frame.byte_length}", "byte_length_mismatch"
            )
        self.pending = None
        self.expected_seq += 1
        self.last_frame_at = frame.timestamp
        self.frames += 1
        self.total_bytes += received
        return frame

    def on_close(self, timestamp_end: datetime) -> None:
        if self.pending is not None:
            raise protocol_error("capture.close arrived while a frame's bytes were due")
        if timestamp_end < (self.last_frame_at or self.start):
            raise protocol_error("timestamp_end is before the last frame", "timestamp_out_of_order")
        duration = (timestamp_end - self.start).total_seconds()
        if duration > MAX_CAPTURE_SECONDS:
            raise limit_error("limit_duration_exceeded", f"capture longer than {MAX_CAPTURE_SECONDS:g} s")
        if duration < MIN_CAPTURE_SECONDS:
            raise limit_error("limit_duration_too_short", f"capture shorter than {MIN_CAPTURE_SECONDS:g} s")
        if self.frames == 0:
            raise limit_error("no_frames", "a capture needs at least one frame")
