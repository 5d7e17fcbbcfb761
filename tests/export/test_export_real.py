"""Exports of real-person captures with consent enforced (tests/export/conftest.py's world): each format
read back with its own library matches the recorded .npz bit for bit; discarded, erased, unconsented,
withdrawn and tampered captures stay out; nothing identifying goes out; two exports are byte-identical
where promised; only researchers (for granted users) and admins export, and the audit says so."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from a3cp.accounts.audit import AuditTrail
from a3cp.cli import main
from a3cp.export.cli import export_through
from a3cp.schemas import AuditAction, ExportRequest, Outcome, parse_timestamp
from a3cp.services.verify import feature_events
from a3cp.storage_layout import exports_dir
from tests.export.conftest import SECRETS, USERS, World, members
from web.routes.exports import NDJSON

ISLR_TYPES = ("face", "left_hand", "pose", "right_hand")


def recorded(world: World) -> dict[str, dict[str, Any]]:
    """source sha256 -> the recorded capture: its features, relative timestamps, user and record_id."""
    found = {}
    for event in feature_events(world.settings):
        ref = event.raw_features_ref
        assert ref is not None and ref.uri is not None and ref.hash is not None
        path = world.settings.data_root / ref.uri
        if not path.exists():
            continue  # erased
        with np.load(path) as npz:
            features, timestamps = npz["features"], npz["timestamps_ms"]
        assert event.timestamp_start is not None
        start = round(parse_timestamp(event.timestamp_start).timestamp() * 1000)
        found[ref.hash] = {
            "features": features,
            "timestamps_ms": timestamps - start,
            "user_id": event.user_id,
            "record_id": event.record_id,
            "bytes": path.read_bytes(),
        }
    return found


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit as float32 (NaN included)."""
    bits = a.astype(np.float32).view(np.uint32)
    return a.shape == b.shape and bool(np.array_equal(bits, b.view(np.uint32)))


def check_manifest(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Every listed file is in the archive with the listed sha256."""
    for entry in manifest["captures"]:
        for key in ("", "timestamps_"):
            if entry[f"{key}path"] is not None:
                digest = "sha256:" + hashlib.sha256(files[entry[f"{key}path"]]).hexdigest()
                assert digest == entry[f"{key}sha256"]


@pytest.fixture(scope="module")
def exports(world: World) -> dict[str, tuple[dict[str, Any], dict[str, bytes]]]:
    """One export per format by rita (no filters): its answer and its archive's files."""
    made = {}
    for name in ("npz", "islr", "pose"):
        answer = world.export(format=name)
        made[name] = (answer, members(world.download(answer["export_id"])))
    return made


def test_only_active_consented_verified_captures_go_out(world: World, exports: Any) -> None:
    answer, files = exports["npz"]
    by_hash = recorded(world)
    exported = {entry["source_sha256"]: entry for entry in answer["manifest"]["captures"]}
    drink, discarded, wave = world.records["elias01"]
    assert {by_hash[h]["record_id"] for h in exported} == {drink, wave}  # not discarded, ben, cleo, dora
    assert sorted(e["label"] for e in exported.values()) == ["drink", "wave"]
    assert answer["progress"] == {"done": 2, "total": 2}
    assert json.loads(files["manifest.json"]) == answer["manifest"]
    assert set(json.loads(files["export.json"])) == {"export_id", "created_at"}
    with_discarded = world.export(format="npz", include_discarded=True)["manifest"]["captures"]
    assert {by_hash[e["source_sha256"]]["record_id"] for e in with_discarded} == {drink, discarded, wave}
    assert [e["status"] for e in with_discarded].count("discarded") == 1
    as_admin = world.export("boss", format="npz", include_discarded=True)["manifest"]["captures"]
    assert {by_hash[e["source_sha256"]]["user_id"] for e in as_admin} == {"elias01"}
    only_wave = world.export(format="npz", labels=["wave"])["manifest"]["captures"]
    assert [by_hash[e["source_sha256"]]["record_id"] for e in only_wave] == [wave]
    rows = list(csv.DictReader(io.StringIO(files["manifest.csv"].decode())))
    assert sorted(row["label"] for row in rows) == ["drink", "wave"]


@pytest.mark.parametrize(
    ("user", "why", "research"),
    [
        ("ben02", "never gave research consent", False),
        ("cleo03", "withdrew research after the capture", False),
        ("dora04", "her capture was erased (research still in force)", True),
    ],
)
def test_each_exclusion_on_its_own(world: World, user: str, why: str, research: bool) -> None:
    consent = world.get("carer01", f"/users/{user}/consent")
    assert consent.status_code == 200, consent.text
    assert consent.json()["scopes"]["research"]["active"] is research, why
    for include_discarded in (False, True):
        body = {"format": "npz", "users": [user], "include_discarded": include_discarded}
        assert world.export("boss", **body)["manifest"]["captures_count"] == 0, why


def test_npz_round_trip(world: World, exports: Any) -> None:
    answer, files = exports["npz"]
    check_manifest(files, answer["manifest"])
    by_hash = recorded(world)
    for entry in answer["manifest"]["captures"]:
        source = by_hash[entry["source_sha256"]]
        with np.load(io.BytesIO(files[entry["path"]])) as npz:
            assert npz["features"].dtype == np.float32 and same_bits(npz["features"], source["features"])
            assert np.array_equal(npz["timestamps_ms"], source["timestamps_ms"])
        assert entry["frames"] == source["features"].shape[0] and entry["fps"] == 2.0
        assert entry["capture_date"] == "2026-11-24"


def test_islr_round_trip_with_pandas(world: World, exports: Any) -> None:
    answer, files = exports["islr"]
    check_manifest(files, answer["manifest"])
    by_hash = recorded(world)
    train = pd.read_csv(io.BytesIO(files["train.csv"]))
    assert list(train.columns) == ["path", "participant_id", "sequence_id", "sign"]
    assert sorted(train["sign"]) == ["drink", "wave"]
    for entry in answer["manifest"]["captures"]:
        source = by_hash[entry["source_sha256"]]
        frame = pd.read_parquet(io.BytesIO(files[entry["path"]]))
        assert list(frame.columns) == [
            "frame", "row_id", "type", "landmark_index", "x", "y", "z", "visibility",
        ]  # fmt: skip
        frames = source["features"].shape[0]
        assert len(frame) == 543 * frames and frame["frame"].max() == frames - 1
        first = frame[frame["frame"] == 0]
        assert list(first["type"].drop_duplicates()) == list(ISLR_TYPES)
        assert first["row_id"].iloc[0] == "0-face-0" and first["row_id"].iloc[-1] == "0-right_hand-20"
        assert frame["x"].dtype == np.float64
        rebuilt = np.empty_like(source["features"])
        xyz = frame[["x", "y", "z"]].to_numpy().astype(np.float32).reshape(frames, 543, 3)
        visibility = frame["visibility"].to_numpy().astype(np.float32).reshape(frames, 543)
        # ISLR rows: face 0-467, left hand 468-488, pose 489-521, right hand 522-542
        pose = np.concatenate([xyz[:, 489:522], visibility[:, 489:522, None]], axis=2)
        rebuilt[:, 0:132] = pose.reshape(frames, -1)
        rebuilt[:, 132:1536] = xyz[:, 0:468].reshape(frames, -1)
        rebuilt[:, 1536:1599] = xyz[:, 468:489].reshape(frames, -1)
        rebuilt[:, 1599:1662] = xyz[:, 522:543].reshape(frames, -1)
        assert same_bits(rebuilt, source["features"])
        sidecar = json.loads(files[entry["timestamps_path"]])
        assert sidecar["timestamps_ms"] == source["timestamps_ms"].tolist()


def test_pose_round_trip_with_pose_format(world: World, exports: Any) -> None:
    from pose_format import Pose

    answer, files = exports["pose"]
    check_manifest(files, answer["manifest"])
    by_hash = recorded(world)
    for entry in answer["manifest"]["captures"]:
        source = by_hash[entry["source_sha256"]]
        features = source["features"]
        frames = features.shape[0]
        pose = Pose.read(files[entry["path"]])
        names = [component.name for component in pose.header.components]
        assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
        assert pose.body.fps == 2.0 and pose.body.data.shape == (frames, 1, 543, 3)
        data = np.asarray(pose.body.data.data)
        confidence = np.asarray(pose.body.confidence)[:, 0]
        body = features[:, 0:132].reshape(frames, 33, 4)
        assert same_bits(data[:, 0, 0:33], np.ascontiguousarray(body[:, :, :3]))
        assert same_bits(data[:, 0, 33:501], features[:, 132:1536].reshape(frames, 468, 3))
        assert same_bits(data[:, 0, 501:522], features[:, 1536:1599].reshape(frames, 21, 3))
        assert same_bits(data[:, 0, 522:543], features[:, 1599:1662].reshape(frames, 21, 3))
        assert same_bits(confidence[:, 0:33], np.nan_to_num(body[:, :, 3], nan=0.0))
        missing = np.isnan(data[:, 0, :, 0])
        assert (confidence[missing] == 0).all()
        assert (confidence[:, 33:][~missing[:, 33:]] == 1).all()  # face and hands: 1 where found
        sidecar = json.loads(files[entry["timestamps_path"]])
        assert sidecar["timestamps_ms"] == source["timestamps_ms"].tolist()


def test_nothing_identifying_goes_out(world: World, exports: Any) -> None:
    forbidden = [*USERS, *SECRETS, *world.sessions.values()]
    forbidden += [record_id for records in world.records.values() for record_id in records]
    for name, (answer, files) in exports.items():
        archive = world.download(answer["export_id"])
        for blob in (archive, *files.values()):
            for text in forbidden:
                assert text.encode() not in blob, (name, text)


def test_two_exports_are_byte_identical_but_for_their_identity(world: World, exports: Any) -> None:
    for name, (first, files) in exports.items():
        again = world.export(format=name)
        assert again["export_id"] != first["export_id"] and again["manifest"] == first["manifest"]
        repeated = members(world.download(again["export_id"]))
        assert {p: b for p, b in repeated.items() if p != "export.json"} == {
            p: b for p, b in files.items() if p != "export.json"
        }


def test_the_local_operator_cli_gives_the_api_export(
    world: World, exports: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_ROOT", str(world.settings.data_root))
    monkeypatch.setenv("LOG_ROOT", str(world.settings.log_root))
    out = tmp_path / "dataset"
    assert main(["export", str(out), "--format", "islr", "--quiet"]) == 0
    _, files = exports["islr"]
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {p: b for p, b in written.items() if p != "export.json"} == {
        p: b for p, b in files.items() if p != "export.json"
    }
    assert main(["export", str(out), "--format", "islr", "--quiet"]) == 1  # not empty
    assert main(["export", str(tmp_path / "x"), "--format", "islr", "--min-quality", "nose=1"]) == 2
    last = list(AuditTrail(world.settings).read())[-1]
    assert last.action is AuditAction.EXPORT and last.account == "system" and last.user_id == "elias01"


def test_a_tampered_file_stops_the_export_with_nothing_written(world: World) -> None:
    discarded = world.records["elias01"][1]
    path = next(p for p in world.settings.data_root.rglob(f"{discarded}.npz"))
    original = path.read_bytes()
    before = sorted(exports_dir(world.settings).iterdir())
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    try:
        refused = world.post("rita", "/exports", json={"format": "npz", "include_discarded": True})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "export_verify_failed" and discarded in refused.json()["message"]
        assert sorted(exports_dir(world.settings).iterdir()) == before  # no folder, no staging left
        assert world.post("rita", "/exports", json={"format": "npz"}).status_code == 201  # not selected
    finally:
        path.write_bytes(original)


def test_who_may_export_and_the_audit(world: World) -> None:
    assert world.post("carer01", "/exports", json={"format": "npz"}).status_code == 403
    refused = world.post("rolf", "/exports", json={"format": "npz", "users": ["elias01"]})
    assert refused.status_code == 404 and refused.json()["fields"][0]["field"] == "users"
    own = world.export("rolf", format="npz")  # ben02 only, who gave no research consent
    assert own["manifest"]["captures_count"] == 0
    assert world.get("rita", f"/exports/{own['export_id']}").status_code == 404
    assert world.get("boss", f"/exports/{own['export_id']}").status_code == 200
    bad = world.post("rita", "/exports", json={"format": "csv"})
    assert bad.status_code == 400 and bad.json()["fields"][0]["field"] == "format"
    mine = world.get("rita", "/exports").json()["exports"]
    assert mine and {e["account"] for e in mine} == {"rita"}
    made = world.export(format="islr", labels=["drink"])
    trail = list(AuditTrail(world.settings).read())
    record = next(r for r in trail if r.object_id == made["export_id"] and r.action is AuditAction.EXPORT)
    assert (record.account, record.user_id, record.outcome) == ("rita", "elias01", Outcome.OK)
    assert record.details == {
        "format": "islr",
        "filters": made["manifest"]["filters"],
        "captures": 1,
        "users": ["elias01"],
        "created_at": made["created_at"],
    }
    carer = [r for r in trail if r.account == "carer01" and r.action is AuditAction.EXPORT]
    assert carer and carer[-1].outcome is Outcome.FORBIDDEN
    listed = {e["export_id"]: e for e in world.get("boss", "/exports").json()["exports"]}
    assert listed[own["export_id"]]["account"] == "rolf" and listed[made["export_id"]]["captures"] == 1


def test_a_researcher_exports_with_one_command_through_the_server(
    world: World, exports: Any, tmp_path: Any
) -> None:
    """`a3cp export --server`'s client side against the app: progress lines, then the unpacked archive,
    the same files as the plain API export."""
    rita = TestClient(world.client.app, headers=world.tokens["rita"])  # the app is already running
    with rita.stream("POST", "/exports", json={"format": "pose"}, headers={"Accept": NDJSON}) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines()]
    assert [line["progress"] for line in lines[:-1]] == [{"done": 1, "total": 2}, {"done": 2, "total": 2}]
    assert lines[-1]["export"]["manifest"] == exports["pose"][0]["manifest"]
    out = tmp_path / "islr"
    assert export_through(rita, ExportRequest(format="islr"), out) == 0
    _, files = exports["islr"]
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert written.keys() == files.keys() and written["manifest.json"] == files["manifest.json"]
    frame = pd.read_parquet(out / json.loads(files["manifest.json"])["captures"][0]["path"])
    assert len(frame) % 543 == 0
    carer = TestClient(world.client.app, headers=world.tokens["carer01"])
    assert export_through(carer, ExportRequest(format="islr"), tmp_path / "refused") == 1
