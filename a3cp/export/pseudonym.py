"""Pseudonymous ids of an export: users become participant ids, captures sequence ids.

Both are HMAC-SHA256 under the deployment's export key (`<DATA_ROOT>/export-pseudonym.key`, 32 random
bytes made on first use, never exported) of the export's scope (its canonical filters) and the real id:
the same key, filters and data give the same ids (exports are reproducible), another filter set gives
unrelated ids (two exports cannot be joined on them), and without the key no id can be traced back.
Ids are integers as Kaggle's ISLR uses them: a participant 6 digits, a sequence 10.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

KEY_BYTES = 32
_PARTICIPANT_SPAN = (100_000, 900_000)
_SEQUENCE_SPAN = (1_000_000_000, 9_000_000_000)


class PseudonymCollision(RuntimeError):
    """Two ids of one export hash to the same pseudonym (about one export in 10^5 of 1,000 captures):
    the export is refused rather than merge two captures or people."""


def load_or_create_key(path: Path) -> bytes:
    """The export key at `path`, created (mode 0600, exclusively: racing processes agree) if missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(f"{path} is not a {KEY_BYTES}-byte export key") from None
        return key
    key = secrets.token_bytes(KEY_BYTES)
    with open(fd, "wb", closefd=True) as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
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
            raise PseudonymCollision(f"two {kind} ids of this export share a pseudonym; change the filters")
        return value

    def participant(self, user_id: str) -> int:
        return self._derive("participant", user_id, _PARTICIPANT_SPAN)

    def sequence(self, record_id: str) -> int:
        return self._derive("sequence", record_id, _SEQUENCE_SPAN)
