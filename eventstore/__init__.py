"""The recorder: the only code that writes session logs (append, read, recover a torn tail).

`SessionLogStore` is its interface; `FileLogStore` (JSONL files placed by a `LogLayout` the project
supplies) and `MemoryLogStore` (for fast tests) implement it. This package imports nothing of the project.
"""

from eventstore.files import FileLogStore
from eventstore.format import LOG_FILE_SUFFIX
from eventstore.interface import LogLayout, SessionLogStore
from eventstore.memory import MemoryLogStore
from eventstore.recorder import (
    AppendResult,
    LogRead,
    TornLine,
    WrongExpectedPosition,
    append_event,
    append_events,
    parse_log,
    read_log,
    read_log_from,
)

__all__ = [
    "LOG_FILE_SUFFIX",
    "FileLogStore",
    "LogLayout",
    "MemoryLogStore",
    "SessionLogStore",
    "AppendResult",
    "LogRead",
    "TornLine",
    "WrongExpectedPosition",
    "append_event",
    "append_events",
    "parse_log",
    "read_log",
    "read_log_from",
]
