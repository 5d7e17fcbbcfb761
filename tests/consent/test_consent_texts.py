"""The published consent texts (a3cp/consent_texts/, docs/privacy.md): each pinned by SHA256SUMS, so a
text edited after publication refuses to load; the current one per language is the highest version;
`GET /consent/texts` serves them, with the sha256 a browser computes from the text it shows."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from a3cp.config import Settings
from a3cp.consent_texts import FOLDER, SUMS_NAME, ConsentTextsCorrupt, consent_texts, load_texts
from a3cp.storage_layout import user_stream_path
from bench.client import USER
from tests.consent.conftest import grant_body
from tests.fixtures.accounts import anonymous

pytestmark = pytest.mark.fast


def test_every_published_text_matches_its_pin_and_is_plain_utf8() -> None:
    texts = consent_texts()
    assert texts and all(text.current for text in texts if text.text_id == "a3cp-gestures")
    for text in texts:
        data = (FOLDER / f"{text.text_id}.{text.text_version}.{text.language}.txt").read_bytes()
        assert (
            text.sha256 == hashlib.sha256(data).hexdigest() == hashlib.sha256(text.text.encode()).hexdigest()
        )
        assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "texts"
    shutil.copytree(FOLDER, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def test_an_edited_text_refuses_to_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    edited = folder / "a3cp-gestures.1.en.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("erased", "kept"), encoding="utf-8")
    with pytest.raises(ConsentTextsCorrupt, match="publish a new version"):
        load_texts(folder)


def test_a_removed_or_unpinned_text_refuses_to_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "a3cp-gestures.1.en.txt").rename(folder / "a3cp-gestures.2.en.txt")
    with pytest.raises(ConsentTextsCorrupt):
        load_texts(folder)


def test_the_highest_version_is_current(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    newer = folder / "a3cp-gestures.10.en.txt"
    newer.write_bytes(b"Consent, version 10.\n")
    sums = folder / SUMS_NAME
    pin = f"{hashlib.sha256(newer.read_bytes()).hexdigest()}  {newer.name}\n"
    sums.write_text(sums.read_text(encoding="utf-8") + pin, encoding="utf-8")
    versions = [(text.text_version, text.current) for text in load_texts(folder)]
    assert versions == [("1", False), ("10", True)]


def test_the_route_serves_the_texts_to_any_account_only(client: TestClient) -> None:
    body = client.get("/consent/texts").json()
    (text,) = body["texts"]
    assert (text["text_id"], text["text_version"], text["language"], text["current"]) == (
        "a3cp-gestures",
        "1",
        "en",
        True,
    )
    assert text["sha256"] == hashlib.sha256(text["text"].encode()).hexdigest()
    assert anonymous(client).get("/consent/texts").status_code == 401


def test_a_grant_to_a_published_text_must_name_it_as_published(
    client: TestClient, settings: Settings
) -> None:
    """The published text's id with another version, language or hash is refused (400 naming the field,
    nothing recorded); the published text as served is accepted, and so is an organisation's own form."""
    (published,) = client.get("/consent/texts").json()["texts"]
    as_published = {key: published[key] for key in ("text_id", "text_version", "language")}
    as_published["text_sha256"] = published["sha256"]
    refused = [
        ({"text_sha256": hashlib.sha256(b"another text").hexdigest()}, "text_sha256"),
        ({"text_version": "99"}, "text_version"),
        ({"language": "de"}, "text_version"),
    ]
    for change, field in refused:
        response = client.post(
            f"/users/{USER}/consent", json=grant_body("capture", **{**as_published, **change})
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "consent_text_mismatch"
        assert response.json()["fields"][0]["field"] == field, response.text
    assert not user_stream_path(settings, USER).exists()  # nothing was recorded
    for body in (grant_body("capture", **as_published), grant_body("capture")):  # published; own form
        assert client.post(f"/users/{USER}/consent", json=body).status_code == 201
