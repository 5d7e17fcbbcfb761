"""The host side of the compose end-to-end check (.ci/compose): what a user or a script does to a running
`docker compose up` stack on 127.0.0.1, and the checks on what it left in the host's ./data and ./logs.

Subcommands (run from the repository root: `python -m tests.deployment.compose_check ...`):
- `capture`: start a session, send one HTTP multipart and one WebSocket capture of the real-person
  frames (bench/capture.py, bench/frames.py), then read the feature events they recorded from the
  host's session log and save their record_ids and hashes (`--out`).
- `files`: every file and folder the stack wrote under ./data and ./logs is owned by --uid:--gid, and
  each saved capture's `.npz` and session log are there.
- `record-ids`: print the saved record_ids, one a line.
- `same-hash`: an `a3cp replay` printout shows the saved hash for that record_id, verified.
- `throughput`: after an untimed warm-up round, send --captures HTTP captures, --concurrency at a time,
  and print captures per minute
  (docs/deployment.md, "Scaling on one host").
Not a pytest module: it needs the stack running (tests/deployment/test_container_lint.py checks the files).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from a3cp.domain.events import FEATURE_EVENT
from bench.capture import USER, http_capture, open_session, ws_capture
from bench.frames import FPS, jpeg_frames
from bench.server import Server
from eventstore import read_log

CAPTURE_SECONDS = 2


def _stack(url: str, token: str) -> Server:
    """The running stack as the bench capture helpers see it: its URL and the carer's API token."""
    return Server(url=url, pid=0, headers={"Authorization": f"Bearer {token}"})


def _feature_events(logs: Path, session_id: str) -> list[dict[str, Any]]:
    log = logs / "users" / USER / "sessions" / f"{session_id}.jsonl"
    return [event for event in read_log(log).events if event.get("event") == FEATURE_EVENT]


def capture(args: argparse.Namespace) -> None:
    stack = _stack(args.url, args.token)
    frames = jpeg_frames(CAPTURE_SECONDS * FPS)
    session_id = open_session(stack)
    for transport, send in (("HTTP", http_capture), ("WebSocket", ws_capture)):
        latency = send(stack, session_id, frames)
        print(f"{transport} capture of {len(frames)} frames: result {latency:.2f} s after the last frame")
    events = _feature_events(Path(args.logs), session_id)
    if len(events) != 2:
        sys.exit(f"expected 2 feature events in the host's session log, found {len(events)}")
    captures = [
        {"record_id": event["record_id"], **{key: event["raw_features_ref"][key] for key in ("uri", "hash")}}
        for event in events
    ]
    Path(args.out).write_text(json.dumps({"session_id": session_id, "captures": captures}, indent=2))
    for saved in captures:
        print(f"recorded {saved['record_id']} {saved['uri']} sha256 {saved['hash']}")


def _saved(path: str) -> dict[str, Any]:
    saved: dict[str, Any] = json.loads(Path(path).read_text())
    return saved


def files(args: argparse.Namespace) -> None:
    saved = _saved(args.captures)
    data, logs = Path(args.data), Path(args.logs)
    expected = [data / item["uri"] for item in saved["captures"]]
    expected.append(logs / "users" / USER / "sessions" / f"{saved['session_id']}.jsonl")
    missing = [str(path) for path in expected if not path.is_file()]
    written = [path for root in (data, logs) for path in root.rglob("*")]
    wrong_owner = [
        f"{path} ({path.stat().st_uid}:{path.stat().st_gid})"
        for path in written
        if (path.stat().st_uid, path.stat().st_gid) != (args.uid, args.gid)
    ]
    if missing or wrong_owner:
        sys.exit(f"missing: {missing}; not owned by {args.uid}:{args.gid}: {wrong_owner}")
    print(f"{len(written)} files and folders under ./data and ./logs, all owned by {args.uid}:{args.gid}")


def record_ids(args: argparse.Namespace) -> None:
    for item in _saved(args.captures)["captures"]:
        print(item["record_id"])


def same_hash(args: argparse.Namespace) -> None:
    expected = next(
        item["hash"] for item in _saved(args.captures)["captures"] if item["record_id"] == args.record_id
    )
    lines = Path(args.replay).read_text().splitlines()
    if f"hash {expected}" not in lines or "verified: yes" not in lines:
        sys.exit(f"replay of {args.record_id} does not show hash {expected}, verified:\n" + "\n".join(lines))
    print(f"replayed {args.record_id}: same hash {expected}, verified")


def throughput(args: argparse.Namespace) -> None:
    stack = _stack(args.url, args.token)
    frames = jpeg_frames(CAPTURE_SECONDS * FPS)
    session_id = open_session(stack)

    def send(_: int) -> float:
        return http_capture(stack, session_id, frames)

    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(send, range(args.concurrency)))  # warm-up, untimed: models load in each replica
        began = time.perf_counter()
        list(pool.map(send, range(args.captures)))
    elapsed = time.perf_counter() - began
    per_minute, frames_per_s = args.captures * 60 / elapsed, args.captures * len(frames) / elapsed
    print(
        f"{args.captures} captures of {len(frames)} frames, {args.concurrency} at a time: {elapsed:.1f} s, "
        f"{per_minute:.1f} captures/min, {frames_per_s:.1f} frames/s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(required=True)
    sub = commands.add_parser("capture")
    sub.add_argument("--url", required=True)
    sub.add_argument("--token", required=True, help="API token of a carer granted the check's person")
    sub.add_argument("--logs", required=True)
    sub.add_argument("--out", required=True)
    sub.set_defaults(run=capture)
    sub = commands.add_parser("files")
    sub.add_argument("--data", required=True)
    sub.add_argument("--logs", required=True)
    sub.add_argument("--uid", type=int, required=True)
    sub.add_argument("--gid", type=int, required=True)
    sub.add_argument("--captures", required=True)
    sub.set_defaults(run=files)
    sub = commands.add_parser("record-ids")
    sub.add_argument("--captures", required=True)
    sub.set_defaults(run=record_ids)
    sub = commands.add_parser("same-hash")
    sub.add_argument("--captures", required=True)
    sub.add_argument("--record-id", required=True)
    sub.add_argument("--replay", required=True)
    sub.set_defaults(run=same_hash)
    sub = commands.add_parser("throughput")
    sub.add_argument("--url", required=True)
    sub.add_argument("--token", required=True, help="API token of a carer granted the check's person")
    sub.add_argument("--captures", type=int, default=8)
    sub.add_argument("--concurrency", type=int, default=4)
    sub.set_defaults(run=throughput)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
