"""`MemoryLogStore`: a SessionLogStore in memory, for fast service tests.

Each log is kept as the exact bytes the file recorder would write (same line format, same parser),
so positions and offsets are those of the files; there is no disk, so no torn tail, and no lock
across processes (one process, guarded by a thread lock).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from eventstore.format import LOG_FILE_SUFFIX, encode_event
from eventstore.recorder import AppendResult, LogRead, WrongExpectedPosition, parse_log


class MemoryLogStore:
    """Logs named `users/<user_id>/sessions/<session_id>.jsonl`, like the file layout names them."""

    def __init__(self) -> None:
        self._logs: dict[str, bytearray] = {}
        self._lock = threading.Lock()

    def log_name(self, user_id: str, session_id: str) -> str:
        return f"users/{user_id}/sessions/{session_id}{LOG_FILE_SUFFIX}"

    def append(
        self,
        user_id: str,
        session_id: str,
        event: dict[str, Any],
        *,
        expected_position: int | None = None,
    ) -> AppendResult:
        line = encode_event(event)
        with self._lock:
            data = self._logs.setdefault(self.log_name(user_id, session_id), bytearray())
            if expected_position is not None:
                current = parse_log(bytes(data), 0).position
                if current != expected_position:
                    raise WrongExpectedPosition(expected_position, current)
            offset = len(data)
            data += line
        return AppendResult(offset=offset)

    def read(self, user_id: str, session_id: str) -> LogRead:
        return self.read_from(self.log_name(user_id, session_id), 0)

    def read_from(self, log_name: str, offset: int) -> LogRead:
        with self._lock:
            data = bytes(self._logs.get(log_name, b""))
        return parse_log(data[offset:], offset)

    def log_names(self) -> list[str]:
        with self._lock:
            return sorted(self._logs)

    def log_sizes(self) -> Iterator[tuple[str, int]]:
        with self._lock:
            sizes = [(name, len(data)) for name, data in self._logs.items()]
        return iter(sizes)

    def owner_of(self, session_id: str) -> str | None:
        suffix = f"/sessions/{session_id}{LOG_FILE_SUFFIX}"
        return next((name.split("/")[1] for name in self.log_names() if name.endswith(suffix)), None)

    def session_ids(self, user_id: str) -> list[str]:
        prefix = f"users/{user_id}/sessions/"
        return [
            name.removeprefix(prefix).removesuffix(LOG_FILE_SUFFIX)
            for name in self.log_names()
            if name.startswith(prefix)
        ]
