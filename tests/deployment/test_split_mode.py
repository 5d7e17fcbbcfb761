"""Split mode as real processes on loopback: `--role ingest` forwards each capture to `--role extractor`.

The same capture (the real-person fixture clip, real MediaPipe) goes once to a one-process server
(`--role all`) and once to ingest backed by the extractor: both answer 201 with the same T, D, quality
and byte-identical file hash, and each records one file and one event. Then the extractor is killed
mid-capture (the client gets 503, nothing is recorded), and after a restart the same capture succeeds
with the identical hash. Clips are short (20 frames) to keep the run modest.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from a3cp.accounts.policy import Role
from a3cp.capture.remote import RemoteCaptureService
from a3cp.config import Settings
from a3cp.schemas import CaptureSpec, parse_timestamp
from bench.client import CAPTURE_PATH, START, capture_meta, request_body
from bench.person import person_frames
from bench.processes import ServerProcess, free_port, split_env
from tests.fixtures.accounts import FIXTURE_ACCOUNT, account_headers, account_service
from tests.fixtures.loop import run_in_fresh_loop
from tests.fixtures.recorded import feature_events, feature_files

FRAMES = 20  # 2 s of the 3 s capture window at 10 fps: short, MediaPipe runs three times on it
USER = "split01"


@dataclass
class Deployment:
    url: str
    settings: Settings
    processes: dict[str, ServerProcess]
    headers: dict[str, str]  # the carer carer01, granted USER


def _deployment(root: Path, roles: tuple[str, ...]) -> Deployment:
    settings = Settings(data_root=root / "data", log_root=root / "logs", db_url="unused")
    ports = {role: free_port() for role in roles}
    env = split_env(settings.data_root, settings.log_root, ports.get("extractor", 1))
    processes = {role: ServerProcess(role, ports[role], env, root / f"{role}.log") for role in roles}
    headers = account_headers(account_service(settings), FIXTURE_ACCOUNT, Role.CARER, (USER,))
    return Deployment(processes[roles[-1]].url, settings, processes, headers)


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Deployment]]:
    planned = {
        "single": _deployment(tmp_path_factory.mktemp("single"), ("all",)),
        "split": _deployment(tmp_path_factory.mktemp("split"), ("extractor", "ingest")),
    }
    try:
        for deployment in planned.values():
            for process in deployment.processes.values():  # the extractor before the ingest
                process.start()
        yield planned
    finally:
        for deployment in planned.values():
            for process in deployment.processes.values():
                process.stop()


@pytest.fixture(scope="module")
def frames() -> tuple[bytes, ...]:
    return person_frames(FRAMES)


def _start_session(deployment: Deployment) -> str:
    with httpx.Client(base_url=deployment.url, headers=deployment.headers, timeout=30) as http:
        response = http.post(START, json=request_body(USER))
    # 200: USER's session from an earlier test is still active (one active session per person)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["session_id"])


def _meta(session_id: str) -> dict[str, Any]:
    return capture_meta(session_id, FRAMES, USER, annotation={"intent": "hello"})


def _post_capture(
    deployment: Deployment,
    meta: dict[str, Any],
    frames: tuple[bytes, ...],
    before_frame: Callable[[int], None] | None = None,
) -> httpx.Response:
    """POST the public multipart capture, streamed part by part like a real client."""
    boundary = uuid.uuid4().hex

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(meta)}\r\n"
        ).encode()
        for index, frame in enumerate(frames):
            if before_frame is not None:
                before_frame(index)
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="frame"; filename="{index}.jpg"\r\n'
            yield head.encode() + b"Content-Type: image/jpeg\r\n\r\n" + frame + b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    headers = {"content-type": f"multipart/form-data; boundary={boundary}", **deployment.headers}
    return httpx.post(deployment.url + CAPTURE_PATH, content=body(), headers=headers, timeout=120)


def _assert_recorded_once(settings: Settings, result: dict[str, Any]) -> None:
    ref = result["raw_features_ref"]
    path = settings.data_root / ref["uri"]
    assert ref["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    events = [e for e in feature_events(settings) if e["record_id"] == result["record_id"]]
    assert len(events) == 1 and events[0]["raw_features_ref"]["hash"] == ref["hash"]
    written = sorted(p for p in (settings.data_root / "users").rglob("*") if p.is_file())
    assert written == feature_files(settings) and all(p.suffix == ".npz" for p in written), "never raw frames"


@pytest.fixture(scope="module")
def results(deployments: dict[str, Deployment], frames: tuple[bytes, ...]) -> dict[str, dict[str, Any]]:
    """The same capture through each deployment (fresh session and record_id in each)."""
    answers = {}
    for name, deployment in deployments.items():
        meta = _meta(_start_session(deployment))
        response = _post_capture(deployment, meta, frames)
        assert response.status_code == 201, f"{name}: {response.text}"
        answers[name] = response.json()
    return answers


@pytest.mark.parametrize("name", ["single", "split"])
def test_capture_is_recorded_once(
    name: str, deployments: dict[str, Deployment], results: dict[str, dict[str, Any]]
) -> None:
    result = results[name]
    assert result["D"] == 1662 and result["T"] == FRAMES
    assert result["quality"]["pose"] > 0.5 and result["quality"]["face"] > 0.5
    _assert_recorded_once(deployments[name].settings, result)


def test_split_mode_gives_the_single_process_result(results: dict[str, dict[str, Any]]) -> None:
    single, split = results["single"], results["split"]
    assert split["raw_features_ref"]["hash"] == single["raw_features_ref"]["hash"]
    assert (split["T"], split["D"], split["quality"]) == (single["T"], single["D"], single["quality"])


def test_websocket_shaped_calls_reach_the_same_result(
    deployments: dict[str, Deployment], results: dict[str, dict[str, Any]], frames: tuple[bytes, ...]
) -> None:
    """The WebSocket route drives the pipeline with a timestamp per frame and timestamp_end at close
    (no frame_count up front): through the forwarder, the same frames at the same instants give the
    single-process file, byte for byte."""
    split = deployments["split"]
    meta = _meta(_start_session(split))
    spec = CaptureSpec.model_validate(
        {k: v for k, v in meta.items() if k not in ("timestamp_end", "frame_count")}
    )
    start = parse_timestamp(meta["timestamp_start"])

    async def capture() -> dict[str, Any]:
        forwarded = await RemoteCaptureService(split.processes["extractor"].url).open_async(spec)
        for index, frame in enumerate(frames):
            await forwarded.push(frame, start + timedelta(seconds=index / meta["fps"]))
        assert forwarded.latest_frame() is None  # no tracked frame comes back mid-capture: no preview
        return await forwarded.finish(parse_timestamp(meta["timestamp_end"]))

    result = run_in_fresh_loop(capture())
    assert result["raw_features_ref"]["hash"] == results["single"]["raw_features_ref"]["hash"]
    _assert_recorded_once(split.settings, result)


def test_extractor_errors_reach_the_client_unchanged(
    deployments: dict[str, Deployment], frames: tuple[bytes, ...]
) -> None:
    split = deployments["split"]
    files_before, events_before = feature_files(split.settings), feature_events(split.settings)
    broken = frames[:2] + (b"not an image",) + frames[3:]
    response = _post_capture(split, _meta(_start_session(split)), broken)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "frame_decode_failed"
    assert [f["field"] for f in response.json()["fields"]] == ["frame[2]"]
    unknown = _post_capture(split, _meta("sess_unknown"), frames)
    assert unknown.status_code == 404 and unknown.json()["error"] == "session_not_found"
    assert feature_files(split.settings) == files_before and feature_events(split.settings) == events_before


def test_extractor_killed_mid_capture_then_restarted(
    deployments: dict[str, Deployment], results: dict[str, dict[str, Any]], frames: tuple[bytes, ...]
) -> None:
    split = deployments["split"]
    extractor = split.processes["extractor"]
    session_id = _start_session(split)
    meta = _meta(session_id)
    files_before, events_before = feature_files(split.settings), feature_events(split.settings)

    def kill_after_three(index: int) -> None:
        if index == 3:
            extractor.kill()

    response = _post_capture(split, meta, frames, before_frame=kill_after_three)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "extractor_unavailable"
    assert feature_files(split.settings) == files_before and feature_events(split.settings) == events_before

    down = _post_capture(split, meta, frames)  # extractor still down: connect retries, then 503
    assert down.status_code == 503 and down.json()["error"] == "extractor_unavailable"
    assert feature_files(split.settings) == files_before

    extractor.start()
    again = _post_capture(split, meta, frames)
    assert again.status_code == 201, again.text
    assert again.json()["record_id"] == meta["record_id"]
    assert again.json()["raw_features_ref"]["hash"] == results["single"]["raw_features_ref"]["hash"]
    _assert_recorded_once(split.settings, again.json())
