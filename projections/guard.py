"""Serving through projection loss: every use of the projection goes through `LossGuard.run`.

Before the work runs, one cheap check (`sqlite_file.file_identity`: is the file still the one the
engine opened, and does it still start with the SQLite header?). When the file was deleted, replaced,
truncated or overwritten, or the work fails with a database error, the guard recovers once: it waits
until no other thread in this process is using the projection, drops every pooled connection, and
under a cross-process file lock either adopts a file another process already rebuilt or removes the
broken file and rebuilds the projection from the logs (migrations, then a full catch-up). If that is
not possible the caller gets `ProjectionUnavailable` (503). The logs are only read.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from a3cp.faults import ProjectionUnavailable
from projections import sqlite_file

logger = logging.getLogger("a3cp.projection")
T = TypeVar("T")


class Gate:
    """Many users at once or one recoverer alone (a waiting recoverer goes first). A thread that is
    already inside passes straight through, so nested `run` calls never wait on themselves."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._waiting = 0
        self._exclusive = False
        self._local = threading.local()

    def held(self) -> bool:
        return bool(getattr(self._local, "inside", False))

    @contextlib.contextmanager
    def _inside(self) -> Iterator[None]:
        self._local.inside = True
        try:
            yield
        finally:
            self._local.inside = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._users += 1
        try:
            with self._inside():
                yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._exclusive and not self._users)
            self._waiting -= 1
            self._exclusive = True
        try:
            with self._inside():
                yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class LossGuard:
    """Runs work against the projection, rebuilding a lost SQLite file first (see module docstring).

    `reopen` drops the engine's connections; `rebuild` recreates the schema and replays every log.
    For PostgreSQL (no file) database errors are reported as ProjectionUnavailable.
    """

    def __init__(
        self,
        path: Path | None,
        tables: tuple[str, ...],
        reopen: Callable[[], None],
        rebuild: Callable[[], object],
    ) -> None:
        self.path = path
        self.tables = tables
        self._reopen = reopen
        self._rebuild = rebuild
        self._identity: sqlite_file.FileIdentity | None = None
        self._gate = Gate()
        self.recoveries = 0

    def adopt(self) -> None:
        """Remember the file as it is now (after migrations or a rebuild) as the one to serve from."""
        if self.path is not None:
            self._identity = sqlite_file.file_identity(self.path)

    def _intact(self) -> bool:
        return self.path is None or (
            self._identity is not None and sqlite_file.file_identity(self.path) == self._identity
        )

    def run(self, work: Callable[[], T]) -> T:
        """`work()` against an intact projection; recover once if needed, else ProjectionUnavailable."""
        if self._gate.held():  # nested call: the outermost run recovers
            return work()
        for attempt in range(2):
            with self._gate.shared():
                if self._intact():
                    try:
                        return work()
                    except SQLAlchemyError as exc:
                        if self.path is None or attempt:
                            raise ProjectionUnavailable("the read model is unavailable; retry later") from exc
                        logger.warning("projection query failed (%s); checking the database file", exc)
            self._recover()
        raise ProjectionUnavailable("the read model could not be rebuilt; retry later")

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """No other thread of this process uses the projection and no other process recovers it.
        `a3cp rebuild` holds this too, so a server never removes a file while it is being rebuilt."""
        with self._gate.exclusive():
            if self.path is None:
                yield
                return
            with sqlite_file.locked(self.path):
                yield

    def _recover(self) -> None:
        assert self.path is not None
        try:
            with self.exclusive():
                self._reopen()
                if sqlite_file.is_usable(self.path, self.tables):
                    self.adopt()  # not damaged after all, or already rebuilt by another process
                    return
                logger.warning("projection %s is missing or damaged; rebuilding it from the logs", self.path)
                sqlite_file.remove(self.path)
                self._identity = None
                self._rebuild()
                self.recoveries += 1
        except (SQLAlchemyError, OSError) as exc:
            logger.error("projection %s could not be rebuilt: %s", self.path, exc)
            raise ProjectionUnavailable("the read model could not be rebuilt; retry later") from exc
