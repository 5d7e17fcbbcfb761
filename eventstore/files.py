"""`FileLogStore`: the SessionLogStore of JSONL files, one per session, placed by a `LogLayout`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eventstore.interface import LogLayout
from eventstore.recorder import AppendResult, LogRead, append_event, read_log, read_log_from


class FileLogStore:
    """Session logs as files (eventstore.recorder does the writing; `layout` says where)."""

    def __init__(self, layout: LogLayout) -> None:
        self.layout = layout

    def append(
        self,
        user_id: str,
        session_id: str,
        event: dict[str, Any],
        *,
        expected_position: int | None = None,
    ) -> AppendResult:
        path = self.layout.log_path(user_id, session_id, create_dir=True)
        return append_event(path, event, expected_position=expected_position)

    def read(self, user_id: str, session_id: str) -> LogRead:
        return read_log(self.layout.log_path(user_id, session_id))

    def log_name(self, user_id: str, session_id: str) -> str:
        return self.layout.log_name(user_id, session_id)

    def read_from(self, log_name: str, offset: int) -> LogRead:
        return read_log_from(self.layout.path_of(log_name), offset)

    def log_names(self) -> list[str]:
        return self.layout.log_names()

    def log_sizes(self) -> Iterator[tuple[str, int]]:
        return self.layout.log_sizes()

    def owner_of(self, session_id: str) -> str | None:
        return self.layout.owner_of(session_id)

    def session_ids(self, user_id: str) -> list[str]:
        return self.layout.session_ids(user_id)
