"""Export (issue 18, docs/export.md): throughput of `a3cp export` per format against reading the same
.npz files bare, in one run, and the peak RSS of a 1,000-capture export.

A synthetic recorded corpus: `--users` people with `research` consent, `--captures` captures in all,
each `--frames` frames of landmark-like float32 values (the left hand lost in every third frame, so NaN
runs through every writer), written as the recorder writes them (np.savez files, `capture.features`
events through eventstore). Each measurement runs in a fresh (spawned) process: its seconds and its
peak RSS (ru_maxrss) are its own. `bare` only loads every file's two arrays; each format runs the whole
export (select, verify every file, write, manifest); `archive` then streams the islr export's tar as
`GET /exports/{id}` does. The same is run at a tenth of the captures: the RSS must not grow with them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from a3cp.capture.artifact import encode_npz, sha256_digest
from a3cp.config import Settings
from a3cp.landmarks.layout import FEATURE_DIM
from a3cp.schemas import ConsentGrantInput, ExportRequest, new_record_id, utc_now
from a3cp.services.consent import ConsentService
from a3cp.storage_layout import StorageLayout
from bench.corpus import feature_of, start_of
from eventstore import append_events

FORMATS = ("npz", "islr", "pose")


def _settings(root: Path) -> Settings:
    return Settings(
        data_root=root / "data", log_root=root / "logs", db_url="sqlite://", consent_required=True
    )


def build_corpus(root: Path, users: int, captures: int, frames: int) -> Settings:
    """`captures` recorded captures spread over `users` consenting people, one session each."""
    settings = _settings(root)
    layout = StorageLayout(settings)
    layout.ensure_roots()
    consent = ConsentService(settings)
    grant = ConsentGrantInput(
        scopes=["capture", "research"],
        grantor="bench",
        relationship="self",
        method="app",
        text_id="bench",
        text_version="1",
        text_sha256="0" * 64,
        language="en",
    )
    rng = np.random.default_rng(18)
    for person in range(users):
        user = f"bench{person:03d}"
        consent.grant(user, "carer01", grant)
        start = start_of(user)
        session = start["session_id"]
        features_dir = layout.features_dir(user, session, create=True)
        events = [start]
        for _ in range(captures // users):
            features = rng.random((frames, FEATURE_DIM), dtype=np.float32)
            features[::3, 1536:1599] = np.nan
            timestamps = 1_796_000_000_000 + np.arange(frames, dtype=np.int64) * 66
            payload = encode_npz(features, timestamps)
            event = feature_of(user, session)
            (features_dir / f"{event['record_id']}.npz").write_bytes(payload)
            reference = event["raw_features_ref"] | {
                "hash": sha256_digest(payload),
                "shape": [frames, FEATURE_DIM],
            }
            events.append(event | {"raw_features_ref": reference})
        append_events(layout.log_path(user, session, create_dir=True), events)
    return settings


def _warm_up(fmt: str) -> None:
    """Import the format's libraries before the clock starts (pose-format's Holistic header loads
    MediaPipe: seconds, once per process, not per capture)."""
    if fmt:
        from a3cp.export.formats import CaptureData, writer_for

        empty = np.zeros((0,), np.int64)
        sample = CaptureData(1, 1, None, 15.0, np.zeros((1, FEATURE_DIM), np.float32), empty, b"", False)
        with tempfile.TemporaryDirectory() as scratch:
            writer_for(fmt).write_capture(Path(scratch), sample)


def _measure(job: str, root: str, fmt: str, queue: Any) -> None:
    """In a fresh process: run `job` on the corpus at `root`; (seconds, frames, peak RSS in MiB)."""
    settings = _settings(Path(root))
    _warm_up(fmt)
    began = time.perf_counter()
    frames = 0
    if job == "bare":
        for path in sorted(settings.data_root.rglob("*.npz")):
            with np.load(path) as npz:
                frames += npz["features"].shape[0]
                npz["timestamps_ms"]
    elif job == "archive":
        from a3cp.export.archive import stream_archive

        frames = sum(len(chunk) for chunk in stream_archive(Path(root) / "out-islr"))
    else:
        from a3cp.export.service import run_export

        outcome = run_export(
            settings,
            ExportRequest(format=fmt),  # type: ignore[arg-type]
            Path(root) / f"out-{fmt}",
            export_id=new_record_id(),
            created_at=utc_now(),
        )
        frames = sum(entry["frames"] for entry in outcome.manifest["captures"])
    seconds = time.perf_counter() - began
    queue.put((seconds, frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(job: str, root: Path, fmt: str = "") -> tuple[float, int, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(job, str(root), fmt, queue))
    process.start()
    result: tuple[float, int, float] = queue.get()
    process.join()
    return result


def run(captures: int, users: int, frames: int) -> dict[str, tuple[float, int, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        build_corpus(root, users, captures, frames)
        results = {"bare": measure("bare", root)}
        for fmt in FORMATS:
            results[fmt] = measure("export", root, fmt)
        results["archive"] = measure("archive", root)
        return results


def report(captures: int, results: dict[str, tuple[float, int, float]]) -> None:
    bare_rate = results["bare"][1] / results["bare"][0]
    print(f"{captures} captures:")
    print(f"  {'job':8} {'seconds':>8} {'frames/s':>10} {'vs bare':>8} {'peak RSS MiB':>13}")
    for job, (seconds, amount, rss) in results.items():
        if job == "archive":
            print(f"  {job:8} {seconds:8.2f} {amount / seconds / 2**20:8.0f} MiB/s {'':>7} {rss:13.0f}")
            continue
        rate = amount / seconds
        print(f"  {job:8} {seconds:8.2f} {rate:10.0f} {rate / bare_rate:7.3f}x {rss:13.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="40 captures (smoke run)")
    parser.add_argument("--captures", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--frames", type=int, default=45, help="frames per capture (3 s at 15 fps)")
    args = parser.parse_args(argv)
    captures = 40 if args.quick else args.captures
    sizes = [captures] if args.quick else [captures // 10, captures]
    for size in sizes:
        report(size, run(size, args.users, args.frames))


if __name__ == "__main__":
    main()
