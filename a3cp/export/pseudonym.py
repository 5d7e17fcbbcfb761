"""Pseudonymous ids of an export: users become participant ids, captures sequence ids.

Both are HMAC-SHA256 under the deployment's export key (`<DATA_ROOT>/export-pseudonym.key`, 32 random
bytes made on first use, never exported) of the export's scope (its canonical filters) and the real id:
the same key, filters and data give the same ids (exports are reproducible), another filter set gives
unrelated ids (two exports cannot be joined on them), and without the key no id can be traced back.
Ids are integers as Kaggle's ISLR uses them, drawn from 1 to 2^53 - 1 (exact as JSON and JavaScript
numbers): so wide a span that two ids of one export colliding is all but impossible (about once in 10^8
exports of 10,000 captures); the rare collision refuses the export as a domain error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from a3cp.domain.errors import DomainError
from eventstore.durable import fsync_directory

KEY_BYTES = 32
MAX_ID = 2**53 - 1  # the largest integer JSON readers and JavaScript keep exact
_ID_SPAN = (1, MAX_ID)  # (first id, how many ids): participants and sequences alike


class PseudonymCollision(DomainError):
    """Two ids of one export hash to the same pseudonym: the export is refused rather than merge two
    captures or people (other filters give other pseudonyms)."""

    code = "export_pseudonym_collision"


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not a {KEY_BYTES}-byte export key")
    return key


def load_or_create_key(path: Path) -> bytes:
    """The export key at `path`, created if missing (mode 0600). The key is written and fsynced in a
    temporary file first, then hard-linked into place: a reader never sees a partial key, a crash leaves
    no empty one, and of racing processes the first link wins and the others read its key."""
    if path.exists():
        return _read_key(path)
    key = secrets.token_bytes(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with open(fd, "wb", closefd=True) as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key(path)
        fsync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def scope_of(filters: dict[str, Any]) -> str:
    """The canonical text of an export's filters (what its pseudonyms are scoped to)."""
    return json.dumps(filters, sort_keys=True, separators=(",", ":"))


class Pseudonyms:
    """The participant and sequence ids of one export (scope) under one key."""

    def __init__(self, key: bytes, scope: str) -> None:
        self._key = key
        self._scope = scope
        self._seen: dict[tuple[str, int], str] = {}

    def _derive(self, kind: str, real_id: str, span: tuple[int, int]) -> int:
        message = "\0".join((kind, self._scope, real_id)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        value = span[0] + int.from_bytes(digest[:8], "big") % span[1]
        if self._seen.setdefault((kind, value), real_id) != real_id:
            raise PseudonymCollision(
                f"two {kind} ids of this export share a pseudonym; change the filters", "filters"
            )
        return value

    def participant(self, user_id: str) -> int:
        return self._derive("participant", user_id, _ID_SPAN)

    def sequence(self, record_id: str) -> int:
        return self._derive("sequence", record_id, _ID_SPAN)
