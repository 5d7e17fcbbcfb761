"""The consent texts a carer shows before recording consent: versioned files in this folder, never edited.

A text is the file `<text_id>.<version>.<language>.txt` (UTF-8, LF line ends, no BOM); its sha256 is the
sha256 of those bytes, which is what a browser computes from the text it shows and sends as
`text_sha256` (docs/privacy.md). `SHA256SUMS` (sha256sum format) pins every published text: a file
edited after publication no longer matches and the catalogue refuses to load, since earlier grants'
hashes must keep proving what was shown. A new wording is a new version file (and a new SHA256SUMS line);
the current text of a (text_id, language) is its highest version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
SUMS_NAME = "SHA256SUMS"


class ConsentTextsCorrupt(RuntimeError):
    """A text does not match SHA256SUMS (edited after publication, or not pinned)."""


@dataclass(frozen=True)
class ConsentText:
    text_id: str
    text_version: str
    language: str
    text: str
    sha256: str
    current: bool


def _pinned(folder: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (folder / SUMS_NAME).read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        pins[name.lstrip("*")] = digest
    return pins


@cache
def consent_texts() -> tuple[ConsentText, ...]:
    """The project's published texts (read once per process)."""
    return load_texts(FOLDER)


def load_texts(folder: Path) -> tuple[ConsentText, ...]:
    """Every text in `folder`, oldest version first per (text_id, language); ConsentTextsCorrupt when a
    file does not match its pin or a pinned file is gone."""
    pins = _pinned(folder)
    found: list[tuple[str, str, str, bytes]] = []
    for path in sorted(folder.glob("*.txt")):
        text_id, version, language = path.name.removesuffix(".txt").split(".")
        data = path.read_bytes()
        if pins.get(path.name) != hashlib.sha256(data).hexdigest():
            raise ConsentTextsCorrupt(
                f"{path.name} does not match {SUMS_NAME}: publish a new version instead"
            )
        found.append((text_id, version, language, data))
    if missing := set(pins) - {path.name for path in folder.glob("*.txt")}:
        raise ConsentTextsCorrupt(f"published texts missing: {sorted(missing)}")
    found.sort(key=lambda item: (item[0], item[2], int(item[1])))
    latest = {(text_id, language): version for text_id, version, language, _ in found}
    return tuple(
        ConsentText(
            text_id=text_id,
            text_version=version,
            language=language,
            text=data.decode("utf-8"),
            sha256=hashlib.sha256(data).hexdigest(),
            current=latest[(text_id, language)] == version,
        )
        for text_id, version, language, data in found
    )
