"""A capture spec in the capture policy's terms, and the one `capture.features` event a capture records.

One capture -> one record_id -> one feature file -> one `capture.features` event. The rules themselves
live in a3cp.domain.capture_policy. Nothing here does I/O.
"""

from __future__ import annotations

from typing import Any

from a3cp.config import MAX_CAPTURE_SECONDS, SCHEMA_VERSION
from a3cp.domain.capture_policy import CaptureDeclaration, CapturePolicy
from a3cp.domain.events import FEATURE_SOURCE, CaptureFeatures, FeatureAnnotation, FeaturesRef
from a3cp.schemas import SYSTEM_PERFORMER, CaptureSpec, parse_timestamp


def epoch_ms_of(timestamp: str) -> int:
    """A wire timestamp as epoch milliseconds."""
    return round(parse_timestamp(timestamp).timestamp() * 1000)


def declaration_of(spec: CaptureSpec) -> CaptureDeclaration:
    """What a capture spec declares, in the capture policy's terms."""
    return CaptureDeclaration(
        start_ms=epoch_ms_of(spec.timestamp_start),
        fps=spec.fps,
        width=spec.width,
        height=spec.height,
        end_ms=epoch_ms_of(spec.timestamp_end) if spec.timestamp_end is not None else None,
        frame_count=spec.frame_count,
        frame_timestamps_ms=tuple(spec.frame_timestamps_ms) if spec.frame_timestamps_ms is not None else None,
    )


def policy_for(spec: CaptureSpec) -> CapturePolicy:
    """The capture policy of `spec`; raises CaptureRejected when the declaration already breaks a rule."""
    return CapturePolicy(declaration_of(spec))


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
    quality: dict[str, float | bool],
    now: str,
    consent_record_id: str | None = None,
    consent_position: int | None = None,
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
        consent_record_id=consent_record_id,
        consent_position=consent_position,
    )
