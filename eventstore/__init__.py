"""The recorder: the only code that writes session logs (append, read, recover a torn tail)."""

from eventstore.format import LOG_FILE_SUFFIX
from eventstore.recorder import (
    AppendResult,
    LogRead,
    TornLine,
    WrongExpectedPosition,
    append_event,
    append_events,
    read_log,
    read_log_from,
)

__all__ = [
    "LOG_FILE_SUFFIX",
    "AppendResult",
    "LogRead",
    "TornLine",
    "WrongExpectedPosition",
    "append_event",
    "append_events",
    "read_log",
    "read_log_from",
]
