"""`AccessDirectory`: the current accounts and grants, folded from the access log and caught up by offset.

Changes go through `record(decide)`: `decide` sees the current state and returns the event to append (or
raises an AccountError); the append is conditional on the log position `decide` saw, so two processes
cannot both create the same account. Rebuilding is refolding the log (`reload`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from a3cp.accounts.events import AccessEvent, parse_access_event
from a3cp.accounts.state import AccessState, apply
from eventstore import WrongExpectedPosition, append_event, read_log_from

logger = logging.getLogger("a3cp.accounts")
Decide = Callable[[AccessState], AccessEvent]


class AccessDirectory:
    def __init__(self, log_path: Path) -> None:
        self._path = log_path
        self._lock = threading.Lock()
        self._state = AccessState()
        self._offset = 0
        self._position = 0  # valid log lines read, the recorder's expected_position

    @property
    def path(self) -> Path:
        return self._path

    def current(self) -> AccessState:
        """The state with every event appended so far (by any process) folded in."""
        with self._lock:
            return self._catch_up()

    def reload(self) -> AccessState:
        """Forget the folded state and refold the whole log (what rebuild does)."""
        with self._lock:
            self._state, self._offset, self._position = AccessState(), 0, 0
            return self._catch_up()

    def record(self, decide: Decide) -> AccessEvent:
        """Append the event `decide` returns for the current state; decide again if the log moved on."""
        with self._lock:
            while True:
                state = self._catch_up()
                event = decide(state)
                try:
                    append_event(self._path, event.to_record(), expected_position=self._position)
                except WrongExpectedPosition:
                    continue  # another process appended first: decide again on the new state
                self._catch_up()
                return event

    def _catch_up(self) -> AccessState:
        read = read_log_from(self._path, self._offset)
        for record in read.events:
            try:
                self._state = apply(self._state, parse_access_event(record))
            except ValidationError:
                logger.warning("access log %s: skipped a line that is not an access event", self._path)
        self._offset = read.end_offset
        self._position += read.position
        return self._state
