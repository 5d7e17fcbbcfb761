"""The export's pure parts without MediaPipe: selection rules and filters, pseudonyms and their key,
the CLI's --min-quality, the streamed tar, the ISLR row order and the pose arrays."""

from __future__ import annotations

import argparse
import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from a3cp.domain.consent import (
    CaptureDiscarded,
    CaptureErased,
    CaptureLabeled,
    ConsentGranted,
    UserConsentState,
    apply,
)
from a3cp.domain.errors import DomainError
from a3cp.domain.events import CaptureFeatures, parse_event
from a3cp.export import pseudonym
from a3cp.export.archive import stream_archive
from a3cp.export.cli import parse_min_quality
from a3cp.export.formats.islr import landmark_table
from a3cp.export.formats.pose import pose_arrays
from a3cp.export.pseudonym import MAX_ID, PseudonymCollision, Pseudonyms, load_or_create_key, scope_of
from a3cp.export.selection import select
from a3cp.landmarks.layout import FEATURE_DIM
from a3cp.schemas import ExportRequest
from bench.corpus import feature_of
from web.error_table import ERRORS

pytestmark = pytest.mark.fast
NOW = "2026-12-01T12:00:00.000Z"
GRANT = {
    "grantor": "g",
    "relationship": "self",
    "method": "app",
    "text_id": "t",
    "text_version": "1",
    "text_sha256": "0" * 64,
    "language": "en",
    "performer_id": "carer01",
    "recorded_by": "carer01",
}


def capture(user: str, start: str, **fields: Any) -> CaptureFeatures:
    event = parse_event(feature_of(user, "sess_1") | {"timestamp_start": start} | fields)
    assert isinstance(event, CaptureFeatures)
    return event


def consented(user: str, *scopes: str, valid_until: str | None = None) -> UserConsentState:
    grant = ConsentGranted(user_id=user, scopes=scopes, valid_until=valid_until, **GRANT)
    return apply(UserConsentState(), grant)


def curate(state: UserConsentState, event: CaptureFeatures, kind: type, **fields: Any) -> UserConsentState:
    extra = {"consent_record_id": event.record_id} if kind is CaptureErased else {}
    curation = kind(
        user_id=event.user_id,
        performer_id="carer01",
        capture_record_id=event.record_id,
        session_id=event.session_id,
        **extra,
        **fields,
    )
    return apply(state, curation)


def test_status_consent_and_filters_decide_selection() -> None:
    a = capture("ann", "2026-11-01T10:00:00.000Z", quality={"pose": 0.9, "left_hand": 0.2})
    b = capture("ann", "2026-11-02T10:00:00.000Z", quality={"pose": 0.5, "left_hand": 0.9})
    c = capture("ann", "2026-11-03T10:00:00.000Z", annotation={"intent": "wave"}, quality={"pose": 0.1})
    gone = capture("ann", "2026-11-04T10:00:00.000Z")
    other = capture("bob", "2026-11-01T10:00:00.000Z")
    expired = capture("eve", "2026-11-01T10:00:00.000Z")
    ann = consented("ann", "capture", "research")
    ann = curate(ann, a, CaptureLabeled, label="drink")
    ann = curate(ann, b, CaptureDiscarded, reason="bad take")
    ann = curate(ann, gone, CaptureErased)
    states = {
        "ann": ann,
        "bob": consented("bob", "capture"),
        "eve": consented("eve", "research", valid_until="2026-11-30T00:00:00.000Z"),
    }
    events = [a, b, c, gone, other, expired]

    def chosen(**filters: Any) -> list[str]:
        return [s.record_id for s in select(events, states, ExportRequest(format="npz", **filters), NOW)]

    assert chosen() == [a.record_id, c.record_id]  # b discarded, gone erased, bob no research, eve expired
    assert chosen(include_discarded=True) == [a.record_id, b.record_id, c.record_id]
    assert chosen(labels=["drink", "wave"]) == [a.record_id, c.record_id]
    assert chosen(labels=["wave"]) == [c.record_id]
    assert chosen(since="2026-11-02T10:00:00Z", include_discarded=True) == [b.record_id, c.record_id]
    assert chosen(until="2026-11-02T10:00:00Z", include_discarded=True) == [a.record_id]
    assert chosen(min_quality={"pose": 0.8}, include_discarded=True) == [a.record_id]
    assert chosen(min_quality={"left_hand": 0.5}, include_discarded=True) == [b.record_id]
    assert chosen(users=["bob"]) == []
    pending = select(events, states, ExportRequest(format="npz"), NOW, frozenset({a.record_id}))
    assert [s.record_id for s in pending] == [c.record_id]  # an erasure asked for and not yet finished
    labels = {s.record_id: s.label for s in select(events, states, ExportRequest(format="npz"), NOW)}
    assert labels == {a.record_id: "drink", c.record_id: "wave"}


def test_the_request_names_a_bad_field() -> None:
    with pytest.raises(ValueError, match="min_quality"):
        ExportRequest(format="npz", min_quality={"nose": 0.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="since"):
        ExportRequest(format="npz", since="2026-11-01 10:00")
    assert parse_min_quality("pose=0.8, left_hand=0.5") == {"pose": 0.8, "left_hand": 0.5}
    with pytest.raises(argparse.ArgumentTypeError):
        parse_min_quality("pose")


def test_pseudonyms_are_keyed_scoped_and_stable(tmp_path: Path) -> None:
    key_path = tmp_path / "export.key"
    key = load_or_create_key(key_path)
    assert load_or_create_key(key_path) == key and len(key) == 32
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    scope = scope_of(ExportRequest(format="npz").filters())
    first, again = Pseudonyms(key, scope), Pseudonyms(key, scope)
    assert first.participant("ann") == again.participant("ann") != first.participant("bob")
    assert 1 <= first.participant("ann") <= MAX_ID and 1 <= first.sequence("r1") <= MAX_ID
    other_scope = scope_of(ExportRequest(format="npz", labels=["x"]).filters())
    assert Pseudonyms(key, other_scope).participant("ann") != first.participant("ann")
    assert Pseudonyms(b"k" * 32, scope).participant("ann") != first.participant("ann")


def test_pseudonyms_span_integers_json_keeps_exact() -> None:
    """1,000 participants in 900,000 ids would collide in ~42% of exports: the span is 2^53 - 1 wide."""
    ids = Pseudonyms(b"k" * 32, "{}")
    participants = [ids.participant(f"user{n}") for n in range(100)]
    sequences = [ids.sequence(f"record{n}") for n in range(100)]
    assert all(isinstance(i, int) and 1 <= i <= MAX_ID for i in participants + sequences)
    assert max(participants) > 2**52 and max(sequences) > 2**52


def test_a_pseudonym_collision_is_a_409_naming_the_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudonym, "_ID_SPAN", (1, 1))  # one id: the second person collides
    ids = Pseudonyms(b"k" * 32, "{}")
    ids.participant("ann")
    with pytest.raises(PseudonymCollision) as refused:
        ids.participant("bob")
    assert isinstance(refused.value, DomainError) and refused.value.field == "filters"
    assert ERRORS[refused.value.code].http_status == 409


def test_a_crash_while_writing_the_key_leaves_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = tmp_path / "export.key"

    def crash(fd: int) -> None:
        raise OSError("disk gone")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", crash)
        with pytest.raises(OSError):
            load_or_create_key(key_path)
    assert list(tmp_path.iterdir()) == []  # neither an empty key nor a temporary file
    assert len(load_or_create_key(key_path)) == 32


def test_racing_key_creators_agree_on_the_first_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path, winner = tmp_path / "export.key", b"w" * 32
    link = os.link

    def lose_the_race(source: Any, target: Any) -> None:
        key_path.write_bytes(winner)  # another process linked its key first
        link(source, target)

    monkeypatch.setattr(os, "link", lose_the_race)
    assert load_or_create_key(key_path) == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.key"]


def test_the_archive_is_a_deterministic_tar(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "data.bin").write_bytes(os.urandom(3000))
    (tmp_path / "README.md").write_text("hello")
    archive = b"".join(stream_archive(tmp_path))
    os.utime(tmp_path / "README.md", (1, 1))
    assert b"".join(stream_archive(tmp_path)) == archive
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
        readme = tar.extractfile("a3cp-export/README.md")
        assert readme is not None and readme.read() == b"hello"
        assert {m.mtime for m in tar.getmembers()} == {0}
    assert names == ["a3cp-export/README.md", "a3cp-export/a/b/data.bin"]


def test_islr_rows_and_pose_arrays_keep_every_value() -> None:
    rng = np.random.default_rng(1)
    features = rng.random((3, FEATURE_DIM), dtype=np.float32)
    features[1, 1536:1599] = np.nan  # left hand lost in frame 1
    table = landmark_table(features).to_pydict()
    assert len(table["frame"]) == 3 * 543
    assert table["row_id"][:2] == ["0-face-0", "0-face-1"] and table["row_id"][468] == "0-left_hand-0"
    assert table["row_id"][489] == "0-pose-0" and table["row_id"][543] == "1-face-0"
    assert table["x"][489] == float(features[0, 0]) and table["visibility"][489] == float(features[0, 3])
    assert np.isnan(table["x"][543 + 468]) and np.isnan(table["visibility"][0])
    data, confidence = pose_arrays(features)
    assert data.shape == (3, 1, 543, 3) and confidence.shape == (3, 1, 543)
    assert (confidence[1, 0, 501:522] == 0).all() and (confidence[0, 0, 501:522] == 1).all()
    assert confidence[0, 0, 0] == features[0, 3]
