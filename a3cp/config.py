"""Runtime settings, capture limits and the only helpers that turn ids into file-system paths.

Every path under LOG_ROOT or DATA_ROOT is built here, from ids that have already passed the strict
id pattern; these helpers are also the only code that creates directories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eventstore.format import LOG_FILE_SUFFIX

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
SCHEMA_VERSION = "1.0.1"

# Capture guardrails (issue: bounded gesture capture). One place, used by HTTP and WebSocket ingest.
MIN_CAPTURE_SECONDS = 2.0
MAX_CAPTURE_SECONDS = 120.0
MAX_FPS = 15.0
MAX_FRAME_PIXELS = 640 * 480
MAX_FRAMES = 1800
# Room for the longest capture (1800 frames) of 480p JPEGs averaging up to ~109 KiB: a detailed scene at
# JPEG quality 80 is ~40 KiB, so 64 MiB refused real 120 s captures (docs/benchmarks.md).
MAX_CAPTURE_BYTES = 192 * 1024 * 1024
MAX_FRAME_BYTES = 2 * 1024 * 1024
MAX_JSON_BODY_BYTES = 64 * 1024

# Process roles (docs/deployment.md): one process does everything, or ingest forwards captures to extractor.
ROLES = ("all", "ingest", "extractor")
DEFAULT_EXTRACTOR_URL = "http://127.0.0.1:8001"


class UnsafeIdError(ValueError):
    """An id that would become a path segment does not match ID_PATTERN."""


def require_safe_id(value: str, field: str) -> str:
    """Return `value` if it is a safe path segment, else raise UnsafeIdError naming `field`."""
    if not isinstance(value, str) or _ID_RE.fullmatch(value) is None:
        raise UnsafeIdError(f"{field} must match {ID_PATTERN}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where the service keeps its data, read once from the environment."""

    data_root: Path
    log_root: Path
    db_url: str
    session_timeout_s: float = 7200.0
    role: str = "all"
    extractor_url: str = DEFAULT_EXTRACTOR_URL
    # WebSocket capture: a frame's bytes must follow its frame_meta within this many seconds, and a
    # capture with no message for `ws_idle_timeout_s` is aborted; the session is re-checked this often.
    ws_meta_to_bytes_timeout_s: float = 2.0
    ws_idle_timeout_s: float = 5.0
    ws_session_recheck_s: float = 1.0

    @classmethod
    def from_env(cls) -> Settings:
        data_root = Path(os.environ.get("DATA_ROOT", "./data")).resolve()
        log_root = Path(os.environ.get("LOG_ROOT", "./logs")).resolve()
        db_url = os.environ.get("A3CP_DB_URL") or f"sqlite:///{data_root / 'projection.sqlite3'}"
        timeout = float(os.environ.get("A3CP_SESSION_TIMEOUT_S", "7200"))
        role = os.environ.get("A3CP_ROLE", "all")
        if role not in ROLES:
            raise ValueError(f"A3CP_ROLE must be one of {', '.join(ROLES)}")
        extractor_url = os.environ.get("A3CP_EXTRACTOR_URL") or DEFAULT_EXTRACTOR_URL
        return cls(
            data_root=data_root,
            log_root=log_root,
            db_url=db_url,
            session_timeout_s=timeout,
            role=role,
            extractor_url=extractor_url,
        )

    def ensure_roots(self) -> None:
        """Create the data and log roots (nothing below them)."""
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.log_root.mkdir(parents=True, exist_ok=True)


def sessions_log_dir(settings: Settings, user_id: str, *, create: bool = False) -> Path:
    """`<LOG_ROOT>/users/<user_id>/sessions/`."""
    path = settings.log_root / "users" / require_safe_id(user_id, "user_id") / "sessions"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def session_log_path(settings: Settings, user_id: str, session_id: str, *, create_dir: bool = False) -> Path:
    """`<LOG_ROOT>/users/<user_id>/sessions/<session_id>` + the log suffix: a session's canonical record."""
    directory = sessions_log_dir(settings, user_id, create=create_dir)
    return directory / (require_safe_id(session_id, "session_id") + LOG_FILE_SUFFIX)


def session_features_dir(settings: Settings, user_id: str, session_id: str, *, create: bool = False) -> Path:
    """`<DATA_ROOT>/users/<user_id>/sessions/<session_id>/features/`."""
    path = (
        settings.data_root
        / "users"
        / require_safe_id(user_id, "user_id")
        / "sessions"
        / require_safe_id(session_id, "session_id")
        / "features"
    )
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def session_log_sizes(settings: Settings) -> Iterator[tuple[str, int]]:
    """(path relative to LOG_ROOT, size in bytes) of every session log `iter_session_logs` lists, in
    no particular order. Uses os.scandir, one stat per log and no Path objects: cheap enough to run
    before every read of the projection."""
    users = os.path.join(settings.log_root, "users")
    try:
        user_dirs = [entry.name for entry in os.scandir(users) if not entry.name.startswith(".")]
    except FileNotFoundError:
        return
    for user in user_dirs:
        try:
            entries = os.scandir(os.path.join(users, user, "sessions"))
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                if entry.name.endswith(LOG_FILE_SUFFIX) and not entry.name.startswith("."):
                    try:
                        size = entry.stat().st_size
                    except FileNotFoundError:
                        continue
                    yield f"users/{user}/sessions/{entry.name}", size


def iter_session_logs(settings: Settings) -> list[Path]:
    """Every session log under LOG_ROOT, sorted, for replay."""
    users = settings.log_root / "users"
    if not users.is_dir():
        return []
    return sorted(users.glob(f"*/sessions/*{LOG_FILE_SUFFIX}"))
