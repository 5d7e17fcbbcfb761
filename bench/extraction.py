"""Extraction: frames/s of the full capture pipeline (JPEG decode -> Holistic -> feature rows -> .npz +
sha256 -> event) vs bare `mp.solutions.holistic` on the same frames already decoded, each a single
process pinned to one core, on a 480p capture of the real-person fixture (1800 frames = 120 s at 15 fps).

With two cores or more the two run at the same time, each on its own core (half the wall time, which
keeps `make bench` within its budget; both see the same machine state); with one core, one after the
other on it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

from a3cp.bootstrap import Services
from a3cp.config import Settings
from a3cp.landmarks.holistic import MODEL_COMPLEXITY
from a3cp.schemas import CaptureSpec, SessionManagerStartInput, format_timestamp, utc_now
from bench.frames import FPS, HEIGHT, WIDTH, jpeg_frames


def decoded(jpegs: list[bytes]) -> list[np.ndarray]:
    """The frames as the tracker sees them (RGB arrays), decoded before the anchor's clock starts."""
    return [
        cv2.cvtColor(cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        for j in jpegs
    ]


def bare_on_core(jpegs: list[bytes], core: int) -> float:
    """The anchor in this process, pinned to `core` (MediaPipe's threads inherit the pinning)."""
    os.sched_setaffinity(0, {core})
    return bare_holistic(decoded(jpegs))


def bare_holistic(rgb_frames: list[np.ndarray]) -> float:
    """The anchor: the same Holistic configuration as the tracker, fed decoded frames, nothing else."""
    with mp.solutions.holistic.Holistic(
        static_image_mode=False,
        model_complexity=MODEL_COMPLEXITY,
        smooth_landmarks=True,
        refine_face_landmarks=False,
    ) as holistic:
        began = time.perf_counter()
        for rgb in rgb_frames:
            holistic.process(rgb)
        return len(rgb_frames) / (time.perf_counter() - began)


def _spec(session_id: str, frames: int) -> CaptureSpec:
    start = datetime.now(UTC) - timedelta(seconds=frames / FPS + 1)
    return CaptureSpec(
        record_id=str(uuid.uuid4()),
        user_id="bench-user",
        session_id=session_id,
        timestamp=utc_now(),
        performer_id="carer-1",
        timestamp_start=format_timestamp(start),
        timestamp_end=format_timestamp(start + timedelta(seconds=frames / FPS)),
        fps=FPS,
        width=WIDTH,
        height=HEIGHT,
        frame_count=frames,
    )


def pipeline(root: Path, jpegs: list[bytes]) -> float:
    """The service's own capture path (CaptureService.open -> add_frame per JPEG -> finish)."""
    # consent is not what this measures: the synthetic person needs none (docs/privacy.md)
    settings = Settings(
        data_root=root / "data",
        log_root=root / "logs",
        db_url=f"sqlite:///{root}/p.db",
        consent_required=False,
    )
    services = Services.build(settings)
    started = services.sessions.start(
        SessionManagerStartInput(
            record_id=str(uuid.uuid4()), user_id="bench-user", timestamp=utc_now(), performer_id="carer-1"
        )
    )
    began = time.perf_counter()
    handle = services.captures.open(_spec(started.session_id, len(jpegs)))
    for jpeg in jpegs:
        handle.add_frame(jpeg)
    created = handle.finish()
    seconds = time.perf_counter() - began
    assert created.T == len(jpegs) and created.raw_features_ref.hash.startswith("sha256:")
    return len(jpegs) / seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    args = parser.parse_args(argv)
    count = 30 if args.quick else 1800
    jpegs = jpeg_frames(count)
    cores = sorted(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        if len(cores) > 1:
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(1, mp_context=spawn) as anchor:
                bare_future = anchor.submit(bare_on_core, jpegs, cores[1])
                os.sched_setaffinity(0, {cores[0]})
                ours = pipeline(Path(tmp).resolve(), jpegs)
                bare = bare_future.result()
        else:
            bare = bare_on_core(jpegs, cores[0])
            ours = pipeline(Path(tmp).resolve(), jpegs)
    at_once = "at the same time on two cores" if len(cores) > 1 else "one after the other"
    print(f"capture: {count} frames {WIDTH}x{HEIGHT} JPEG, each measurement on one core ({at_once})")
    print(f"bare mp.solutions.holistic (decoded frames): {bare:.1f} frames/s")
    print(
        f"full pipeline (decode, Holistic, features, .npz + sha256, event): {ours:.1f} frames/s (goal >= 30)"
    )
    print(f"ratio pipeline/bare: {ours / bare:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
