"""The capture policy: every rule one bounded capture must keep, as one typed state machine.

A capture declares itself (`CaptureDeclaration`), then frames are admitted one at a time, then it is
closed. Each rule is written here once and answers with one stable code:

| rule | code |
| --- | --- |
| fps in (0, MAX_FPS] | `fps_invalid` / `limit_fps_exceeded` |
| each side <= MAX_FRAME_SIDE, width x height <= MAX_FRAME_PIXELS | `limit_resolution_exceeded` |
| duration in [MIN_CAPTURE_SECONDS, MAX_CAPTURE_SECONDS] | `limit_duration_too_short` / `..._exceeded` |
| frames <= `max_frames_for(duration, fps)` | `limit_frame_count_exceeded` |
| frames == the declared frame_count (and its timestamps) | `frame_count_mismatch` / `..._timestamps_..` |
| bytes <= MAX_FRAME_BYTES a frame, MAX_CAPTURE_BYTES in all | `limit_frame_bytes_exceeded` / `..._total_..` |
| seq 1, 2, 3, ... (when the transport numbers frames) | `seq_out_of_order` |
| start <= frame times (non-decreasing) <= end | `timestamp_out_of_order` |
| a timestamp_end, at least one frame | `timestamp_end_missing` / `no_frames` |
| server seconds since open <= cap + CAPTURE_WALL_GRACE_S (`ServerDeadline`) | `capture_time_exceeded` |

Both transports (HTTP multipart, WebSocket) and the extractor role feed this class; they keep only their
framing. Pure: epoch milliseconds (and, for the server deadline, the server clock's seconds) in,
`CaptureRejected` out, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from a3cp.config import (
    CAPTURE_WALL_GRACE_S,
    MAX_CAPTURE_BYTES,
    MAX_CAPTURE_SECONDS,
    MAX_FPS,
    MAX_FRAME_BYTES,
    MAX_FRAME_PIXELS,
    MAX_FRAME_SIDE,
    MAX_FRAMES,
    MIN_CAPTURE_SECONDS,
)
from a3cp.domain.errors import CaptureRejected


def max_frames_for(duration_s: float, fps: float) -> int:
    """Frames a capture of `duration_s` at `fps` may hold: one per period plus the fence post."""
    return min(MAX_FRAMES, math.floor(duration_s * fps + 1e-9) + 1)


@dataclass(frozen=True)
class CaptureDeclaration:
    """What a capture says about itself before its frames (times in epoch milliseconds)."""

    start_ms: int
    fps: float
    width: int
    height: int
    end_ms: int | None = None
    frame_count: int | None = None
    frame_timestamps_ms: tuple[int, ...] | None = None


def _duration_rule(start_ms: int, end_ms: int, field_name: str) -> None:
    seconds = (end_ms - start_ms) / 1000
    if seconds > MAX_CAPTURE_SECONDS:
        raise CaptureRejected(
            "limit_duration_exceeded", f"a capture lasts at most {MAX_CAPTURE_SECONDS:g} s", field_name
        )
    if seconds < MIN_CAPTURE_SECONDS:
        raise CaptureRejected(
            "limit_duration_too_short", f"a capture lasts at least {MIN_CAPTURE_SECONDS:g} s", field_name
        )


def _order_rule(earlier_ms: int, later_ms: int, message: str, field_name: str) -> None:
    if later_ms < earlier_ms:
        raise CaptureRejected("timestamp_out_of_order", message, field_name)


@dataclass
class CapturePolicy:
    """One capture's state: built from its declaration (checked at once), fed frame by frame, closed."""

    declared: CaptureDeclaration
    frames: int = 0
    total_bytes: int = 0
    timestamps_ms: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        d = self.declared
        if not d.fps > 0:
            raise CaptureRejected("fps_invalid", f"fps must be in (0, {MAX_FPS:g}]", "fps")
        if d.fps > MAX_FPS:
            raise CaptureRejected("limit_fps_exceeded", f"fps must be at most {MAX_FPS:g}", "fps")
        if max(d.width, d.height) > MAX_FRAME_SIDE or d.width * d.height > MAX_FRAME_PIXELS:
            raise CaptureRejected(
                "limit_resolution_exceeded",
                f"frames are at most {MAX_FRAME_SIDE} px a side and {MAX_FRAME_PIXELS} pixels",
                "width",
            )
        if d.end_ms is not None:
            _duration_rule(d.start_ms, d.end_ms, "timestamp_end")
        if d.frame_count is not None and d.frame_count > self.max_frames:
            raise CaptureRejected(
                "limit_frame_count_exceeded",
                f"frame_count may be at most {self.max_frames} for this duration and fps",
                "frame_count",
            )
        stamps = d.frame_timestamps_ms
        if stamps is not None:
            if d.frame_count is not None and len(stamps) != d.frame_count:
                raise CaptureRejected(
                    "frame_timestamps_mismatch", "one timestamp per frame is required", "frame_timestamps_ms"
                )
            window_end = d.end_ms if d.end_ms is not None else d.start_ms + round(MAX_CAPTURE_SECONDS * 1000)
            bounded = [d.start_ms, *stamps, window_end]
            for earlier, later in zip(bounded, bounded[1:], strict=False):
                _order_rule(
                    earlier,
                    later,
                    "frame timestamps must not decrease and lie between timestamp_start and timestamp_end",
                    "frame_timestamps_ms",
                )

    @property
    def max_frames(self) -> int:
        d = self.declared
        seconds = (d.end_ms - d.start_ms) / 1000 if d.end_ms is not None else MAX_CAPTURE_SECONDS
        return max_frames_for(seconds, d.fps)

    def admit(self, *, timestamp_ms: int | None = None, seq: int | None = None, byte_length: int = 0) -> int:
        """Admit the next frame; returns its time (given, declared, or start + index / fps).

        `seq` is checked when the transport numbers its frames (WebSocket); `byte_length` is the frame's
        size (announced or received)."""
        d, index = self.declared, self.frames
        where = f"frame[{index}]"
        if seq is not None and seq != index + 1:
            raise CaptureRejected("seq_out_of_order", f"seq {seq} out of order; expected {index + 1}", "seq")
        if d.frame_count is not None and index >= d.frame_count:
            raise CaptureRejected(
                "frame_count_mismatch", f"more than the declared {d.frame_count} frames", "frame_count"
            )
        if timestamp_ms is None and d.frame_timestamps_ms is not None:
            if index >= len(d.frame_timestamps_ms):
                raise CaptureRejected(
                    "frame_count_mismatch", "more frames than frame_timestamps_ms", "frame_count"
                )
            timestamp_ms = d.frame_timestamps_ms[index]
        if timestamp_ms is None:
            timestamp_ms = d.start_ms + round(index * 1000 / d.fps)
        previous = self.timestamps_ms[-1] if self.timestamps_ms else d.start_ms
        _order_rule(previous, timestamp_ms, f"frame {index} goes back in time", where)
        if (timestamp_ms - d.start_ms) / 1000 > MAX_CAPTURE_SECONDS:
            raise CaptureRejected(
                "limit_duration_exceeded", f"frame {index} is past the {MAX_CAPTURE_SECONDS:g} s cap", where
            )
        if byte_length > MAX_FRAME_BYTES:
            raise CaptureRejected("limit_frame_bytes_exceeded", f"frame over {MAX_FRAME_BYTES} bytes", where)
        if index + 1 > self.max_frames:
            raise CaptureRejected(
                "limit_frame_count_exceeded", f"at most {self.max_frames} frames at this fps", "frame_count"
            )
        if self.total_bytes + byte_length > MAX_CAPTURE_BYTES:
            raise CaptureRejected(
                "limit_total_bytes_exceeded", f"capture over {MAX_CAPTURE_BYTES} bytes", where
            )
        self.frames += 1
        self.total_bytes += byte_length
        self.timestamps_ms.append(timestamp_ms)
        return timestamp_ms

    def close(self, end_ms: int | None = None) -> int:
        """Final checks when the capture is over; returns its end time (given, else declared)."""
        d = self.declared
        end = end_ms if end_ms is not None else d.end_ms
        if end is None:
            raise CaptureRejected("timestamp_end_missing", "timestamp_end is required", "timestamp_end")
        if self.timestamps_ms:
            _order_rule(
                self.timestamps_ms[-1], end, "timestamp_end is before the last frame", "timestamp_end"
            )
        _duration_rule(d.start_ms, end, "timestamp_end")
        if d.frame_count is not None and self.frames != d.frame_count:
            raise CaptureRejected(
                "frame_count_mismatch",
                f"meta says {d.frame_count} frames, {self.frames} arrived",
                "frame_count",
            )
        if self.frames == 0:
            raise CaptureRejected("no_frames", "a capture needs at least one frame", "frame")
        return end


@dataclass(frozen=True)
class ServerDeadline:
    """The capture's end by the server's clock (seconds of any monotonic clock): frame times come from
    the client, so a client whose clock does not advance is still cut off here."""

    opened_s: float
    limit_s: float = MAX_CAPTURE_SECONDS + CAPTURE_WALL_GRACE_S

    def remaining(self, now_s: float) -> float:
        """Seconds left; raises `capture_time_exceeded` once none are."""
        left = self.opened_s + self.limit_s - now_s
        if left <= 0:
            raise CaptureRejected(
                "capture_time_exceeded",
                f"the capture was open for more than {self.limit_s:g} s of server time",
                "timestamp_end",
            )
        return left
