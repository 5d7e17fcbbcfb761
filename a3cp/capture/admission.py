"""Admission control: at most `capacity` captures extract at once in one process.

Every capture takes a slot at open (HTTP, WebSocket and the extractor role open captures through the one
CaptureService) before any Holistic graph or frame buffer exists, and gives it back when it finishes or
is dropped. A capture over capacity is refused at once with `CapacityExhausted` and a retry hint: with
one capture per core each stays real time, where queueing them would make every capture late and
memory grow with connections instead of capacity.
"""

from __future__ import annotations

import threading

from a3cp.faults import CapacityExhausted


class Slot:
    """One admitted capture's place; `release` is idempotent."""

    def __init__(self, admission: Admission) -> None:
        self._admission: Admission | None = admission

    def release(self) -> None:
        admission, self._admission = self._admission, None
        if admission is not None:
            admission.give_back()


class Admission:
    """Counts the captures in progress against `capacity` (thread-safe)."""

    def __init__(self, capacity: int, retry_after_s: int) -> None:
        self.capacity = capacity
        self.retry_after_s = retry_after_s
        self._in_use = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        return self._in_use

    def admit(self) -> Slot:
        """A slot, or CapacityExhausted when all `capacity` are taken."""
        with self._lock:
            if self._in_use >= self.capacity:
                raise CapacityExhausted(
                    f"all {self.capacity} capture slots are busy; retry in {self.retry_after_s} s",
                    self.retry_after_s,
                )
            self._in_use += 1
        return Slot(self)

    def give_back(self) -> None:
        with self._lock:
            self._in_use -= 1
