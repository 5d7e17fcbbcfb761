"""Capture rules as pure code: meta guardrails, running limits while frames arrive, the feature event.

One capture -> one record_id -> one feature file -> one `capture.features` event. Nothing here does
I/O; the capture service calls these checks before and during the expensive work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from a3cp.config import (
    MAX_CAPTURE_SECONDS,
    MAX_FPS,
    MAX_FRAME_PIXELS,
    MAX_FRAMES,
    MIN_CAPTURE_SECONDS,
    SCHEMA_VERSION,
)
from a3cp.domain.errors import DomainError
from a3cp.domain.events import FEATURE_SOURCE, CaptureFeatures, FeatureAnnotation, FeaturesRef
from a3cp.schemas import SYSTEM_PERFORMER, CaptureSpec, parse_timestamp


class CaptureRejected(DomainError):
    """The capture breaks a guardrail; nothing is written. `code` is stable for clients."""

    def __init__(self, code: str, message: str, field: str | None = None, status_code: int = 400) -> None:
        super().__init__(message, field)
        self.code = code
        self.status_code = status_code


def _ms(timestamp: str) -> int:
    return round(parse_timestamp(timestamp).timestamp() * 1000)


def max_frames_for(duration_s: float, fps: float) -> int:
    """Frames a capture of `duration_s` at `fps` may hold: one per period plus the fence post."""
    return min(MAX_FRAMES, math.floor(duration_s * fps + 1e-9) + 1)


def check_spec(spec: CaptureSpec) -> None:
    """Guardrails on what the client declared, before any frame is decoded."""
    if spec.fps <= 0 or spec.fps > MAX_FPS:
        raise CaptureRejected(
            "fps_too_high" if spec.fps > 0 else "fps_invalid", f"fps must be in (0, {MAX_FPS:g}]", "fps"
        )
    if spec.width * spec.height > MAX_FRAME_PIXELS:
        raise CaptureRejected(
            "frame_too_large", f"width x height must be at most {MAX_FRAME_PIXELS} pixels", "width"
        )
    if spec.timestamp_end is not None:
        check_duration(spec, _ms(spec.timestamp_end))
    if spec.frame_count is not None:
        limit = max_frames_for(_declared_seconds(spec), spec.fps)
        if spec.frame_count > limit:
            raise CaptureRejected(
                "frame_count_exceeded",
                f"frame_count may be at most {limit} for this duration and fps",
                "frame_count",
            )
    stamps = spec.frame_timestamps_ms
    if stamps is not None:
        if spec.frame_count is not None and len(stamps) != spec.frame_count:
            raise CaptureRejected(
                "frame_timestamps_mismatch", "one timestamp per frame is required", "frame_timestamps_ms"
            )
        if any(later < earlier for earlier, later in zip(stamps, stamps[1:], strict=False)):
            raise CaptureRejected(
                "timestamps_not_monotonic", "frame timestamps must not decrease", "frame_timestamps_ms"
            )
        start = _ms(spec.timestamp_start)
        end = (
            _ms(spec.timestamp_end) if spec.timestamp_end is not None else start + MAX_CAPTURE_SECONDS * 1000
        )
        if stamps and (stamps[0] < start or stamps[-1] > end):
            raise CaptureRejected(
                "timestamps_out_of_window",
                "frame timestamps (epoch ms) must lie between timestamp_start and timestamp_end",
                "frame_timestamps_ms",
            )


def _declared_seconds(spec: CaptureSpec) -> float:
    end = spec.timestamp_end
    return (_ms(end) - _ms(spec.timestamp_start)) / 1000 if end is not None else MAX_CAPTURE_SECONDS


def check_duration(spec: CaptureSpec, end_ms: int) -> None:
    """The capture must last 2-120 s."""
    seconds = (end_ms - _ms(spec.timestamp_start)) / 1000
    if seconds < MIN_CAPTURE_SECONDS:
        raise CaptureRejected(
            "duration_too_short", f"a capture lasts at least {MIN_CAPTURE_SECONDS:g} s", "timestamp_end"
        )
    if seconds > MAX_CAPTURE_SECONDS:
        raise CaptureRejected(
            "duration_too_long", f"a capture lasts at most {MAX_CAPTURE_SECONDS:g} s", "timestamp_end"
        )


@dataclass
class FrameClock:
    """Running checks while frames arrive, and the timestamp recorded for each frame."""

    spec: CaptureSpec
    frames: int = 0
    last_ms: int | None = None
    timestamps_ms: list[int] = field(default_factory=list)

    def accept(self, timestamp_ms: int | None) -> int:
        """Admit the next frame; returns its timestamp (given, declared, or start + index / fps)."""
        index = self.frames
        limit = max_frames_for(_declared_seconds(self.spec), self.spec.fps)
        if index + 1 > limit:
            raise CaptureRejected("frame_count_exceeded", f"more than {limit} frames", "frame_count")
        declared = self.spec.frame_timestamps_ms
        if timestamp_ms is None and declared is not None:
            if index >= len(declared):
                raise CaptureRejected(
                    "frame_count_mismatch", "more frames than frame_timestamps_ms", "frame_count"
                )
            timestamp_ms = declared[index]
        if timestamp_ms is None:
            timestamp_ms = _ms(self.spec.timestamp_start) + round(index * 1000 / self.spec.fps)
        if self.last_ms is not None and timestamp_ms < self.last_ms:
            raise CaptureRejected(
                "timestamps_not_monotonic", f"frame {index} goes back in time", f"frame[{index}]"
            )
        if (timestamp_ms - _ms(self.spec.timestamp_start)) / 1000 > MAX_CAPTURE_SECONDS:
            raise CaptureRejected(
                "duration_too_long",
                f"frame {index} is past the {MAX_CAPTURE_SECONDS:g} s cap",
                f"frame[{index}]",
            )
        self.frames += 1
        self.last_ms = timestamp_ms
        self.timestamps_ms.append(timestamp_ms)
        return timestamp_ms

    def close(self, timestamp_end: str | None) -> None:
        """Final checks when the client says the capture is over."""
        end = timestamp_end or self.spec.timestamp_end
        if end is None:
            raise CaptureRejected("timestamp_end_missing", "timestamp_end is required", "timestamp_end")
        check_duration(self.spec, _ms(end))
        if self.spec.frame_count is not None and self.frames != self.spec.frame_count:
            raise CaptureRejected(
                "frame_count_mismatch",
                f"meta says {self.spec.frame_count} frames, {self.frames} arrived",
                "frame_count",
            )
        if self.frames == 0:
            raise CaptureRejected("no_frames", "a capture needs at least one frame", "frame")
        if self.last_ms is not None and self.last_ms > _ms(end):
            raise CaptureRejected(
                "timestamps_out_of_window", "a frame is later than timestamp_end", "timestamp_end"
            )


def encoding_tag(fps: float, a3cp_version: str, mediapipe_version: str) -> str:
    """The `encoding` of a feature reference: layout, fps, window cap and exact extractor versions."""
    return (
        f"holistic_landmarks_v1;fps={fps:g};max_window_s={MAX_CAPTURE_SECONDS:g};"
        f"extractor_tag={a3cp_version}+mediapipe-{mediapipe_version}"
    )


def feature_event(
    spec: CaptureSpec,
    timestamp_end: str,
    raw_features_ref: dict[str, Any],
    quality: dict[str, float],
    now: str,
) -> CaptureFeatures:
    """The one event a capture records (performer "system": the extractor produced it)."""
    annotation = None
    if spec.annotation is not None:
        annotation = FeatureAnnotation(
            schema_version=SCHEMA_VERSION,
            record_id=spec.record_id,
            user_id=spec.user_id,
            session_id=spec.session_id,
            timestamp=spec.timestamp,
            performer_id=spec.performer_id,
            intent=spec.annotation.intent,
        )
    return CaptureFeatures(
        record_id=spec.record_id,
        user_id=spec.user_id,
        session_id=spec.session_id,
        timestamp=now,
        source=FEATURE_SOURCE,
        performer_id=SYSTEM_PERFORMER,
        modality="gesture",
        capture_id=spec.capture_id or spec.record_id,
        capture_performer_id=spec.performer_id,
        timestamp_start=spec.timestamp_start,
        timestamp_end=timestamp_end,
        raw_features_ref=FeaturesRef.model_validate(raw_features_ref),
        quality=quality,
        annotation=annotation,
    )
