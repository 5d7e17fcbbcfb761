"""A capture of a real person over HTTP: one 201, one feature file, one event, all consistent."""

from __future__ import annotations

import hashlib

import numpy as np

from a3cp.landmarks.layout import FEATURE_DIM, PARTS
from a3cp.schemas import A3CPMessage, RawFeaturesRef
from a3cp.services.verify import verify
from bench.client import CAPTURE_FRAMES, capture_meta
from tests.fixtures.recorded import feature_events, feature_files


def test_capture_of_a_real_person_records_one_verified_feature_file(
    settings, session_id, frames, post_capture
):
    meta = capture_meta(session_id, annotation={"intent": "help"})
    response = post_capture(meta, frames)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["record_id"] == meta["record_id"] == body["capture_id"]
    assert (body["T"], body["D"]) == (CAPTURE_FRAMES, FEATURE_DIM) == (CAPTURE_FRAMES, 1662)

    ref = body["raw_features_ref"]
    path = settings.data_root / ref["uri"]
    assert ref["uri"].endswith(f"{meta['record_id']}.npz") and not ref["uri"].startswith("/")
    assert ref["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert (ref["format"], ref["dtype"], ref["shape"], ref["dims"]) == (
        "npz",
        "float32",
        [CAPTURE_FRAMES, 1662],
        1662,
    )
    assert ref["encoding"].startswith("holistic_landmarks_v1;fps=10;max_window_s=120;extractor_tag=")
    assert ref["encoding"].endswith("+mediapipe-0.10.21")

    with np.load(path, allow_pickle=False) as archive:
        features, stamps = archive["features"], archive["timestamps_ms"]
    assert features.dtype == np.float32 and features.shape == (CAPTURE_FRAMES, 1662)
    assert stamps.dtype == np.int64 and stamps.shape == (CAPTURE_FRAMES,)
    assert stamps[0] == 1795514401000 and np.all(np.diff(stamps) == 100)  # start + i / fps, epoch ms
    pose, face, left, right = (features[:, part.columns] for part in PARTS)
    assert np.mean(~np.isnan(pose).any(axis=1)) >= 0.8  # a real person: pose and face in most frames
    assert np.mean(~np.isnan(face).any(axis=1)) >= 0.8
    assert np.isnan(left).all() and np.isnan(right).all()  # no hands in the portrait: NaN, never 0
    assert body["quality"]["pose"] >= 0.8 and body["quality"]["face"] >= 0.8
    assert body["quality"]["left_hand"] == body["quality"]["right_hand"] == 0.0

    [event] = feature_events(settings)
    assert event["record_id"] == meta["record_id"] and event["capture_id"] == meta["record_id"]
    assert (event["source"], event["performer_id"], event["modality"]) == (
        "landmark_extractor",
        "system",
        "gesture",
    )
    assert event["raw_features_ref"] == ref and event["quality"] == body["quality"]
    assert event["annotation"]["intent"] == "help"
    A3CPMessage.model_validate(event)
    RawFeaturesRef.model_validate(event["raw_features_ref"])
    assert verify(settings).ok


def test_capture_id_travels_with_the_record_id(settings, session_id, frames, post_capture):
    capture_id = "11111111-2222-3333-4444-555555555555"
    response = post_capture(capture_meta(session_id, capture_id=capture_id), frames)
    assert response.status_code == 201, response.text
    assert response.json()["capture_id"] == capture_id
    [event] = feature_events(settings)
    assert event["capture_id"] == capture_id and event["record_id"] != capture_id


def test_png_frames_and_given_frame_timestamps(settings, session_id, post_capture):
    from bench.person import person_frames

    frames = person_frames(20, fmt=".png")
    stamps = [1795514401000 + 140 * i for i in range(20)]
    meta = capture_meta(session_id, frames=20, frame_timestamps_ms=stamps)
    response = post_capture(meta, frames)
    assert response.status_code == 201, response.text
    with np.load(settings.data_root / response.json()["raw_features_ref"]["uri"]) as archive:
        assert archive["timestamps_ms"].tolist() == stamps
    assert len(feature_files(settings)) == 1


def test_record_index_serves_a_non_v4_capture_id(client, session_id, frames, post_capture):
    capture_id = "11111111-2222-3333-4444-555555555555"  # upstream allows any UUID version here
    meta = capture_meta(session_id, capture_id=capture_id)
    assert post_capture(meta, frames).status_code == 201
    record = client.get(f"/records/{meta['record_id']}")
    assert record.status_code == 200 and record.json()["capture_id"] == capture_id
    listing = client.get("/session_manager/users/elias01/sessions")
    assert listing.status_code == 200 and capture_id in listing.text
