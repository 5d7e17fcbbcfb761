"""Generated events with the real shapes, for benchmarks: the domain's own builders make one template
per kind (start, capture.features, end); copies get fresh record_ids, so a million cost seconds."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

import a3cp
from a3cp.domain.capture import encoding_tag, feature_event
from a3cp.domain.events import Append
from a3cp.domain.session import SessionState, decide_end, decide_start, fold, session_id_for
from a3cp.landmarks.layout import FEATURE_DIM
from a3cp.schemas import CaptureSpec, SessionManagerEndInput, SessionManagerStartInput, utc_now

_USER = "template-user"
_SESSION = "template-session"
_QUALITY = {"pose": 0.97, "face": 0.95, "left_hand": 0.0, "right_hand": 0.12}


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, Any]]:
    now = utc_now()
    start_request = SessionManagerStartInput(
        record_id=str(uuid.uuid4()),
        user_id=_USER,
        timestamp=now,
        performer_id="carer-1",
        is_training_data=True,
        session_notes="benchmark session",
    )
    started = decide_start(SessionState(_SESSION, _USER), start_request, now)
    assert isinstance(started, Append)
    start = started.event.to_record()
    end_request = SessionManagerEndInput(
        record_id=str(uuid.uuid4()), user_id=_USER, session_id=_SESSION, timestamp=now, performer_id="carer-1"
    )
    ended = decide_end(fold(_SESSION, _USER, [start]), end_request, now)
    assert isinstance(ended, Append)
    end = ended.event.to_record()
    spec = CaptureSpec(
        record_id=str(uuid.uuid4()),
        user_id=_USER,
        session_id=_SESSION,
        timestamp=now,
        performer_id="carer-1",
        timestamp_start=now,
        timestamp_end=now,
        fps=15,
        width=640,
        height=480,
    )
    reference = {
        "uri": f"users/{_USER}/sessions/{_SESSION}/features/{spec.record_id}.npz",
        "hash": "sha256:" + "0" * 64,
        "encoding": encoding_tag(15, a3cp.__version__, "0.10.21"),
        "dims": FEATURE_DIM,
        "shape": [150, FEATURE_DIM],
        "dtype": "float32",
        "format": "npz",
    }
    feature = feature_event(spec, now, reference, _QUALITY, now).to_record()
    return {"start": start, "feature": feature, "end": end}


def _copy(kind: str, user_id: str, session_id: str) -> dict[str, Any]:
    record_id = str(uuid.uuid4())
    return dict(_templates()[kind], record_id=record_id, user_id=user_id, session_id=session_id)


def start_of(user_id: str) -> dict[str, Any]:
    """A session start; its session_id is derived from its record_id, as the service does."""
    event = _copy("start", user_id, "")
    event["session_id"] = session_id_for(event["record_id"])
    return event


def feature_of(user_id: str, session_id: str) -> dict[str, Any]:
    """A capture.features event whose reference points into this session's features directory."""
    event = _copy("feature", user_id, session_id)
    ref = event["raw_features_ref"]
    uri = f"users/{user_id}/sessions/{session_id}/features/{event['record_id']}.npz"
    return dict(event, capture_id=event["record_id"], raw_features_ref=dict(ref, uri=uri))


def end_of(user_id: str, session_id: str) -> dict[str, Any]:
    return _copy("end", user_id, session_id)
