"""The recorder as the rest of the service sees it: `SessionLogStore`, and `LogLayout`, what a file
store needs to know about where logs live (the project supplies it; this package knows no layout).

Logs are addressed by (user_id, session_id) for writes and by their name (a stable string, e.g. the
path relative to the log root) for incremental reads, which is what a follower such as the
projection keeps its checkpoints under.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from eventstore.recorder import AppendResult, LogRead


class SessionLogStore(Protocol):
    """Append-only session logs with optimistic concurrency."""

    def append(
        self,
        user_id: str,
        session_id: str,
        event: dict[str, Any],
        *,
        expected_position: int | None = None,
    ) -> AppendResult:
        """Durably append one event; WrongExpectedPosition (nothing written) if the log has moved on."""
        ...

    def read(self, user_id: str, session_id: str) -> LogRead:
        """The whole log of a session (empty when there is none)."""
        ...

    def log_name(self, user_id: str, session_id: str) -> str:
        """The name `log_sizes` and `read_from` use for this session's log."""
        ...

    def read_from(self, log_name: str, offset: int) -> LogRead:
        """The log named `log_name` from byte `offset` (a previous `end_offset`)."""
        ...

    def log_names(self) -> list[str]:
        """Every log, sorted."""
        ...

    def log_sizes(self) -> Iterator[tuple[str, int]]:
        """(name, size in bytes) of every log; cheap, for followers polling for growth."""
        ...

    def owner_of(self, session_id: str) -> str | None:
        """The user whose logs hold `session_id`, if any."""
        ...

    def session_ids(self, user_id: str) -> list[str]:
        """The ids of every session log `user_id` has, sorted."""
        ...


class LogLayout(Protocol):
    """Where a file store's logs live."""

    def log_path(self, user_id: str, session_id: str, *, create_dir: bool = False) -> Path: ...

    def log_name(self, user_id: str, session_id: str) -> str: ...

    def path_of(self, log_name: str) -> Path: ...

    def log_names(self) -> list[str]: ...

    def log_sizes(self) -> Iterator[tuple[str, int]]: ...

    def owner_of(self, session_id: str) -> str | None: ...

    def session_ids(self, user_id: str) -> list[str]: ...
