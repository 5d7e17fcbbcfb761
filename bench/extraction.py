"""Extraction: frames/s of the full capture pipeline (JPEG decode -> Holistic -> feature rows -> .npz +
sha256 -> event) vs bare `mp.solutions.holistic` on the same frames already decoded, each a single
process pinned to one core, on a 480p capture of the real-person fixture (1800 frames = 120 s at 15 fps).

With two cores or more the two run at the same time, each on its own core (half the wall time, which
keeps `make bench` within its budget; both see the same machine state); with one core, one after the
other on it.

The aggregate (issue 23): N captures at once through one service, as the server runs them (a worker
thread each), total frames/s against `cores x` bare Holistic frames/s on one core, measured in the same
run just before (AGGREGATE_FRAMES frames per capture, N in AGGREGATE_COUNTS).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
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

AGGREGATE_COUNTS = (1, 2, 4)
AGGREGATE_FRAMES = 300


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


def _spec(user_id: str, session_id: str, frames: int) -> CaptureSpec:
    start = datetime.now(UTC) - timedelta(seconds=frames / FPS + 1)
    return CaptureSpec(
        record_id=str(uuid.uuid4()),
        user_id=user_id,
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


def _services(root: Path, max_captures: int = 0) -> Services:
    # consent is not what this measures: the synthetic people need none (docs/privacy.md)
    settings = Settings(
        data_root=root / "data",
        log_root=root / "logs",
        db_url=f"sqlite:///{root}/p.db",
        consent_required=False,
        max_captures=max_captures,
    )
    return Services.build(settings)


def _capture(services: Services, user_id: str, jpegs: list[bytes]) -> None:
    """One capture through the service's own path (CaptureService.open -> add_frame per JPEG -> finish)."""
    started = services.sessions.start(
        SessionManagerStartInput(
            record_id=str(uuid.uuid4()), user_id=user_id, timestamp=utc_now(), performer_id="carer-1"
        )
    )
    handle = services.captures.open(_spec(user_id, started.session_id, len(jpegs)))
    for jpeg in jpegs:
        handle.add_frame(jpeg)
    created = handle.finish()
    assert created.T == len(jpegs) and created.raw_features_ref.hash.startswith("sha256:")


def pipeline(root: Path, jpegs: list[bytes]) -> float:
    """Frames/s of one capture through the service (the session start is not timed)."""
    services = _services(root)
    began = time.perf_counter()
    _capture(services, "bench-user", jpegs)
    return len(jpegs) / (time.perf_counter() - began)


def concurrent_pipelines(root: Path, jpegs: list[bytes], count: int) -> float:
    """Total frames/s of `count` captures at once (one person each, one thread each, as in the server)."""
    services = _services(root, max_captures=count)
    with ThreadPoolExecutor(count) as pool:
        began = time.perf_counter()
        done = [pool.submit(_capture, services, f"bench-user-{index}", jpegs) for index in range(count)]
        for future in done:
            future.result()
        return count * len(jpegs) / (time.perf_counter() - began)


def aggregate(root: Path, jpegs: list[bytes], counts: tuple[int, ...]) -> tuple[float, dict[int, float]]:
    """Bare Holistic frames/s on one core, then the total frames/s of each count of captures at once."""
    cores = sorted(os.sched_getaffinity(0))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as anchor:
        bare = anchor.submit(bare_on_core, jpegs, cores[0]).result()
    totals = {count: concurrent_pipelines(root / f"n{count}", jpegs, count) for count in counts}
    return bare, totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    parser.add_argument("--no-aggregate", action="store_true", help="skip the concurrent-captures part")
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
    print(f"ratio pipeline/bare: {ours / bare:.2f} (goal >= 0.93, issue 23)")
    if args.no_aggregate:
        return
    frames = jpegs[:AGGREGATE_FRAMES]  # quick: all 30 (2 s, the shortest capture)
    counts = (1, 2) if args.quick else AGGREGATE_COUNTS
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        one_core, totals = aggregate(Path(tmp).resolve(), frames, counts)
    ceiling = len(cores) * one_core
    print(
        f"aggregate, {len(frames)} frames per capture: bare Holistic on one core {one_core:.1f} frames/s, "
        f"x {len(cores)} cores = {ceiling:.1f} frames/s"
    )
    for count, total in totals.items():
        print(
            f"  {count} capture(s) at once: {total:.1f} frames/s total, {total / ceiling:.2f} of the ceiling"
        )


if __name__ == "__main__":
    main()
