"""The credentials store: password hashes, token hashes, login sessions, the setup link, login throttling.

A small SQLite file under DATA_ROOT, NOT derived from any log and never touched by `a3cp rebuild`
(docs/security.md says how to back it up). It holds no secret in the clear: passwords as Argon2id hashes
(argon2-cffi), tokens, login-session ids and the setup link as SHA-256 of their ≥256-bit random values.
One connection per write (reads keep one per thread), so several server processes can share the file.
The clock is injected.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from a3cp.accounts.errors import SetupUnavailable, Throttled, WeakPassword
from a3cp.accounts.settings import MIN_PASSWORD_LENGTH, SETUP_LINK_TTL_S, LoginLimits

Clock = Callable[[], float]
TOUCH_INTERVAL_S = 60.0  # how stale a login's recorded last use may be (its idle limit is far longer)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passwords (account TEXT PRIMARY KEY, hash TEXT NOT NULL, changed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL);
CREATE TABLE IF NOT EXISTS login_sessions (
    id_hash TEXT PRIMARY KEY, handle TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
    created_at REAL NOT NULL, last_seen REAL NOT NULL, client TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS login_sessions_account ON login_sessions (account);
CREATE TABLE IF NOT EXISTS setup_links (link_hash TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
"""


def digest(secret: str) -> str:
    """What the store keeps of a random secret: its SHA-256 (the secret has ≥256 bits, so no salt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh 256-bit random value, URL-safe."""
    return secrets.token_urlsafe(32)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", "password")


@dataclass(frozen=True)
class LoginSession:
    """An active browser login: `handle` is its public name (admin page), never the cookie value."""

    handle: str
    account: str
    created_at: float
    last_seen: float
    client: str


@dataclass(frozen=True)
class StoredToken:
    token_id: str
    account: str
    created_at: float
    expires_at: float | None


class CredentialStore:
    def __init__(
        self,
        path: Path,
        limits: LoginLimits | None = None,
        *,
        clock: Clock = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or LoginLimits()
        self.clock = clock
        self._hasher = hasher or PasswordHasher()  # Argon2id, argon2-cffi's RFC 9106 low-memory profile
        # A hash to verify against when the account is unknown, so both cases cost the same time.
        self._decoy = self._hasher.hash(new_secret())
        self._readers = threading.local()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # secrets: readable by the service only
        os.close(fd)
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: readers never wait for a writer
            db.executescript(_SCHEMA)
        finally:
            db.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: writers queue instead of failing), committed durably."""
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")  # a logout or a revocation survives a power cut
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads only: nothing to commit, no disk write (WAL readers never wait).

        Each thread keeps its own (every request resolves its token here: opening a connection per
        read was 7% of the request path, bench.api --profile). In autocommit mode every statement is
        its own read transaction, so it sees what any process committed before it."""
        db: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self._readers.db = db
        yield db

    # Passwords

    def set_password(self, account: str, password: str) -> None:
        """Store `account`'s new password hash and end all its login sessions."""
        check_password_strength(password)
        hashed = self._hasher.hash(password)
        with self._connect() as db:
            db.execute(
                "INSERT INTO passwords VALUES (?, ?, ?) ON CONFLICT (account) DO UPDATE "
                "SET hash = excluded.hash, changed_at = excluded.changed_at",
                (account, hashed, self.clock()),
            )
            db.execute("DELETE FROM login_sessions WHERE account = ?", (account,))

    def verify_password(self, account: str, password: str) -> bool:
        with self._reading() as db:
            row = db.execute("SELECT hash FROM passwords WHERE account = ?", (account,)).fetchone()
        stored = row[0] if row else self._decoy
        try:
            ok = self._hasher.verify(stored, password) and row is not None
        except (VerificationError, InvalidHashError):
            return False
        if ok and self._hasher.check_needs_rehash(stored):
            self._rehash(account, password)
        return ok

    def _rehash(self, account: str, password: str) -> None:
        """Re-hash with current parameters after a successful login (sessions stay)."""
        with self._connect() as db:
            db.execute(
                "UPDATE passwords SET hash = ? WHERE account = ?", (self._hasher.hash(password), account)
            )

    # Throttling

    def check_throttle(self, account: str, client: str) -> None:
        """Raise Throttled while the account or the client address has too many recent failures."""
        now = self.clock()
        since = now - self.limits.failure_window_s
        with self._connect() as db:
            db.execute("DELETE FROM login_failures WHERE at <= ?", (since,))
            waits = []
            for key in (f"account:{account}", f"client:{client}"):
                rows = db.execute(
                    "SELECT at FROM login_failures WHERE key = ? ORDER BY at DESC LIMIT ?",
                    (key, self.limits.max_failures),
                ).fetchall()
                if len(rows) >= self.limits.max_failures:
                    waits.append(rows[-1][0] + self.limits.failure_window_s - now)
        if waits:
            raise Throttled(max(1, math.ceil(max(waits))))

    def record_failure(self, account: str, client: str) -> None:
        now = self.clock()
        with self._connect() as db:
            db.executemany(
                "INSERT INTO login_failures VALUES (?, ?)",
                [(f"account:{account}", now), (f"client:{client}", now)],
            )

    def clear_failures(self, account: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM login_failures WHERE key = ?", (f"account:{account}",))

    # Login sessions

    def open_session(self, account: str, client: str) -> tuple[str, LoginSession]:
        """A new login session: (the cookie value, shown once; the session as stored)."""
        session_id = new_secret()
        now = self.clock()
        session = LoginSession(secrets.token_hex(8), account, now, now, client)
        with self._connect() as db:
            db.execute(
                "INSERT INTO login_sessions VALUES (?, ?, ?, ?, ?, ?)",
                (digest(session_id), session.handle, account, now, now, client),
            )
        return session_id, session

    def _expired(self, created_at: float, last_seen: float, now: float) -> bool:
        limits = self.limits
        return now - last_seen >= limits.idle_timeout_s or now - created_at >= limits.absolute_timeout_s

    def resolve_session(self, session_id: str) -> LoginSession | None:
        """The live session for a cookie value, None when unknown or expired.

        Its idle clock restarts, written at most every TOUCH_INTERVAL_S (or a tenth of the idle limit):
        an authenticated request then costs a read, not a durable write.
        """
        now = self.clock()
        key = digest(session_id)
        with self._reading() as db:
            row = db.execute(
                "SELECT handle, account, created_at, last_seen, client FROM login_sessions WHERE id_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        if self._expired(row[2], row[3], now):
            self.close_session(session_id)
            return None
        if now - row[3] >= min(TOUCH_INTERVAL_S, self.limits.idle_timeout_s / 10):
            with self._connect() as db:
                db.execute("UPDATE login_sessions SET last_seen = ? WHERE id_hash = ?", (now, key))
            return LoginSession(row[0], row[1], row[2], now, row[4])
        return LoginSession(*row)

    def close_session(self, session_id: str) -> LoginSession | None:
        """End the session named by its cookie value; the ended session, or None if there was none."""
        with self._connect() as db:
            row = db.execute(
                "DELETE FROM login_sessions WHERE id_hash = ? "
                "RETURNING handle, account, created_at, last_seen, client",
                (digest(session_id),),
            ).fetchone()
        return LoginSession(*row) if row else None

    def end_session_by_handle(self, handle: str) -> LoginSession | None:
        with self._connect() as db:
            row = db.execute(
                "DELETE FROM login_sessions WHERE handle = ? "
                "RETURNING handle, account, created_at, last_seen, client",
                (handle,),
            ).fetchone()
        return LoginSession(*row) if row else None

    def end_sessions_of(self, account: str) -> int:
        with self._connect() as db:
            return db.execute("DELETE FROM login_sessions WHERE account = ?", (account,)).rowcount

    def active_sessions(self) -> list[LoginSession]:
        now = self.clock()
        with self._reading() as db:
            rows = db.execute(
                "SELECT handle, account, created_at, last_seen, client FROM login_sessions "
                "ORDER BY created_at"
            ).fetchall()
        return [LoginSession(*row) for row in rows if not self._expired(row[2], row[3], now)]

    # API tokens

    def store_token(self, token_id: str, account: str, token: str, expires_at: float | None) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
                (digest(token), token_id, account, self.clock(), expires_at),
            )

    def resolve_token(self, token: str) -> StoredToken | None:
        """The live token for a bearer value, None when unknown or expired."""
        with self._reading() as db:
            row = db.execute(
                "SELECT token_id, account, created_at, expires_at FROM tokens WHERE token_hash = ?",
                (digest(token),),
            ).fetchone()
        if row is None or (row[3] is not None and self.clock() >= row[3]):
            return None
        return StoredToken(*row)

    def drop_token(self, token_id: str) -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM tokens WHERE token_id = ?", (token_id,)).rowcount > 0

    # First-run setup link

    def issue_setup_link(self) -> str:
        """A new one-time setup secret, valid SETUP_LINK_TTL_S or until used; earlier ones stop working."""
        secret = new_secret()
        with self._connect() as db:
            db.execute("DELETE FROM setup_links")
            db.execute(
                "INSERT INTO setup_links VALUES (?, ?)", (digest(secret), self.clock() + SETUP_LINK_TTL_S)
            )
        return secret

    def setup_link_valid(self, secret: str) -> bool:
        with self._reading() as db:
            row = db.execute(
                "SELECT expires_at FROM setup_links WHERE link_hash = ?", (digest(secret),)
            ).fetchone()
        return row is not None and self.clock() < row[0]

    def consume_setup_link(self, secret: str) -> None:
        """Use the link up (raise SetupUnavailable when it is unknown, used or expired)."""
        with self._connect() as db:
            row = db.execute(
                "DELETE FROM setup_links WHERE link_hash = ? RETURNING expires_at", (digest(secret),)
            ).fetchone()
        if row is None or self.clock() >= row[0]:
            raise SetupUnavailable("this setup link is unknown, used or expired")
