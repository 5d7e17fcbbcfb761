"""Where everything lives on disk: the only module that turns ids into paths and creates directories.

Session logs: `<LOG_ROOT>/users/<user_id>/sessions/<session_id>` + the log suffix; feature files:
`<DATA_ROOT>/users/<user_id>/sessions/<session_id>/features/`; record_id reservations
`<DATA_ROOT>/records/<record_id>`; the access log `<LOG_ROOT>/access/`, the
daily audit streams `<LOG_ROOT>/audit/`, the credentials store, the TLS files, the dataset exports
`<DATA_ROOT>/exports/<export_id>/` and the export pseudonym key under DATA_ROOT.
Every id is checked against the strict ID_PATTERN before it becomes a path segment. `StorageLayout` is
also the log layout the file recorder (eventstore.files.FileLogStore) is given, so the recorder itself
knows no paths of this project.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from a3cp.config import Settings
from eventstore.format import LOG_FILE_SUFFIX

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN.strip("^$"))


class UnsafeIdError(ValueError):
    """An id that would become a path segment does not match ID_PATTERN."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must match {ID_PATTERN}")
        self.field = field


def require_safe_id(value: object, field: str) -> str:
    """Return `value` if it is a safe path segment, else raise UnsafeIdError naming `field`."""
    if not isinstance(value, str) or _ID_RE.fullmatch(value) is None:
        raise UnsafeIdError(field)
    return value


def ensure_directory(path: Path) -> None:
    """Create `path` and its parents unless it exists: one stat on the request path (every append),
    where `mkdir(exist_ok=True)` costs a failed mkdir, an exception and a stat."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)


class StorageLayout:
    """The directory layout under one Settings' LOG_ROOT and DATA_ROOT."""

    def __init__(self, settings: Settings) -> None:
        self.log_root = settings.log_root
        self.data_root = settings.data_root

    def ensure_roots(self) -> None:
        """Create the data and log roots (nothing below them)."""
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.log_root.mkdir(parents=True, exist_ok=True)

    def sessions_log_dir(self, user_id: str, *, create: bool = False) -> Path:
        """`<LOG_ROOT>/users/<user_id>/sessions/`."""
        path = self.log_root / "users" / require_safe_id(user_id, "user_id") / "sessions"
        if create:
            ensure_directory(path)
        return path

    def log_path(self, user_id: str, session_id: str, *, create_dir: bool = False) -> Path:
        """A session's canonical record: `<LOG_ROOT>/users/<user_id>/sessions/<session_id>` + log suffix."""
        directory = self.sessions_log_dir(user_id, create=create_dir)
        return directory / (require_safe_id(session_id, "session_id") + LOG_FILE_SUFFIX)

    def log_name(self, user_id: str, session_id: str) -> str:
        """The log's name relative to LOG_ROOT (the projection's key for it)."""
        return self.log_path(user_id, session_id).relative_to(self.log_root).as_posix()

    def features_dir(self, user_id: str, session_id: str, *, create: bool = False) -> Path:
        """`<DATA_ROOT>/users/<user_id>/sessions/<session_id>/features/`."""
        path = (
            self.data_root
            / "users"
            / require_safe_id(user_id, "user_id")
            / "sessions"
            / require_safe_id(session_id, "session_id")
            / "features"
        )
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def records_dir(self, *, create: bool = False) -> Path:
        """`<DATA_ROOT>/records/`: a marker per recorded record_id (a3cp.capture.reservation)."""
        path = self.data_root / "records"
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def record_marker(self, record_id: str, *, create_dir: bool = False) -> Path:
        """`<DATA_ROOT>/records/<record_id>`: the record_id's reservation marker."""
        return self.records_dir(create=create_dir) / require_safe_id(record_id, "record_id")

    def features_dirs(self) -> Iterator[Path]:
        """Every session's feature directory that exists under DATA_ROOT (for the crash-leftover sweep)."""
        users = self.data_root / "users"
        if not users.is_dir():
            return
        for user in sorted(users.iterdir()):
            sessions = user / "sessions"
            if _ID_RE.fullmatch(user.name) is None or not sessions.is_dir():
                continue
            for session in sorted(sessions.iterdir()):
                if _ID_RE.fullmatch(session.name) and (session / "features").is_dir():
                    yield session / "features"

    def features_dir_of_log(self, log_name: str) -> Path:
        """The feature directory of the session whose log is `log_name` (as `log_names` lists it)."""
        _, user_id, _, file_name = log_name.split("/")
        return self.features_dir(user_id, file_name.removesuffix(LOG_FILE_SUFFIX))

    def log_names(self) -> list[str]:
        """Every session log under LOG_ROOT (names relative to it), sorted, for replay."""
        return sorted(name for name, _ in self.log_sizes())

    def log_sizes(self) -> Iterator[tuple[str, int]]:
        """(name relative to LOG_ROOT, size in bytes) of every session log, in no particular order.

        Uses os.scandir, one stat per log and no Path objects: cheap enough to run before every read
        of the projection. Entries whose names are not safe ids are not logs and are skipped.
        """
        users = os.path.join(self.log_root, "users")
        try:
            user_dirs = [entry.name for entry in os.scandir(users) if _ID_RE.fullmatch(entry.name)]
        except FileNotFoundError:
            return
        for user in user_dirs:
            try:
                entries = os.scandir(os.path.join(users, user, "sessions"))
            except (FileNotFoundError, NotADirectoryError):
                continue
            with entries:
                for entry in entries:
                    if not entry.name.endswith(LOG_FILE_SUFFIX):
                        continue
                    if _ID_RE.fullmatch(entry.name.removesuffix(LOG_FILE_SUFFIX)) is None:
                        continue
                    try:
                        size = entry.stat().st_size
                    except FileNotFoundError:
                        continue
                    yield f"users/{user}/sessions/{entry.name}", size

    def path_of(self, log_name: str) -> Path:
        """The file of a log named as `log_sizes` names it."""
        return self.log_root / log_name

    def session_ids(self, user_id: str) -> list[str]:
        """The ids of every session log of `user_id`, sorted (none for an unknown user)."""
        try:
            entries = os.scandir(self.sessions_log_dir(user_id))
        except (FileNotFoundError, NotADirectoryError):
            return []
        with entries:
            names = [entry.name for entry in entries]
        ids = (name.removesuffix(LOG_FILE_SUFFIX) for name in names if name.endswith(LOG_FILE_SUFFIX))
        return sorted(session_id for session_id in ids if _ID_RE.fullmatch(session_id))

    def owner_of(self, session_id: str) -> str | None:
        """The user whose log directory holds `session_id`, if any (one lookup per user); None for an
        id that cannot name a log."""
        if _ID_RE.fullmatch(session_id) is None:
            return None
        users = self.log_root / "users"
        names = sorted(entry.name for entry in users.iterdir()) if users.is_dir() else []
        return next(
            (
                name
                for name in names
                if _ID_RE.fullmatch(name)
                and (users / name / "sessions" / (session_id + LOG_FILE_SUFFIX)).is_file()
            ),
            None,
        )


# Shorthands for code that holds Settings rather than a layout (the CLI, scripts, tests).
def session_log_path(settings: Settings, user_id: str, session_id: str, *, create_dir: bool = False) -> Path:
    """`StorageLayout.log_path` of `settings`."""
    return StorageLayout(settings).log_path(user_id, session_id, create_dir=create_dir)


def session_features_dir(settings: Settings, user_id: str, session_id: str, *, create: bool = False) -> Path:
    """`StorageLayout.features_dir` of `settings`."""
    return StorageLayout(settings).features_dir(user_id, session_id, create=create)


def iter_session_logs(settings: Settings) -> list[Path]:
    """Every session log file under LOG_ROOT, sorted."""
    layout = StorageLayout(settings)
    return [layout.path_of(name) for name in layout.log_names()]


# Account streams and secrets (docs/security.md): the access log, the audit trail, credentials, TLS.
ACCESS_STREAM = "access"
AUDIT_DIR = "audit"


def access_log_path(settings: Settings, *, create_dir: bool = False) -> Path:
    """`<LOG_ROOT>/access/access` + the log suffix: the one access stream."""
    directory = settings.log_root / ACCESS_STREAM
    if create_dir:
        directory.mkdir(parents=True, exist_ok=True)
    return directory / (ACCESS_STREAM + LOG_FILE_SUFFIX)


def audit_dir(settings: Settings, *, create: bool = False) -> Path:
    """`<LOG_ROOT>/audit/`: one audit stream per UTC day."""
    directory = settings.log_root / AUDIT_DIR
    if create:
        ensure_directory(directory)
    return directory


def audit_log_path(settings: Settings, day: date, *, create_dir: bool = False) -> Path:
    """`<LOG_ROOT>/audit/<YYYY-MM-DD>` + the log suffix."""
    return audit_dir(settings, create=create_dir) / (day.isoformat() + LOG_FILE_SUFFIX)


def audit_log_days(settings: Settings) -> list[tuple[date, Path]]:
    """Every day's audit stream, oldest first."""
    found = []
    for path in audit_dir(settings).glob("*" + LOG_FILE_SUFFIX):
        try:
            found.append((date.fromisoformat(path.name.removesuffix(LOG_FILE_SUFFIX)), path))
        except ValueError:
            continue  # not a day stream
    return sorted(found)


def credentials_path(settings: Settings) -> Path:
    """`<DATA_ROOT>/credentials.sqlite3`: secrets, never derived from logs, untouched by rebuild."""
    settings.data_root.mkdir(parents=True, exist_ok=True)
    return settings.data_root / "credentials.sqlite3"


def tls_dir(settings: Settings) -> Path:
    """`<DATA_ROOT>/tls/`: the generated local CA and server certificate."""
    directory = settings.data_root / "tls"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


# The per-user stream (docs/privacy.md): consent given and withdrawn, and the curation of captures.
USER_STREAM = "consent"


def user_stream_path(settings: Settings, user_id: str, *, create_dir: bool = False) -> Path:
    """`<LOG_ROOT>/users/<user_id>/consent` + the log suffix: one user's consent and curation events."""
    directory = settings.log_root / "users" / require_safe_id(user_id, "user_id")
    if create_dir:
        directory.mkdir(parents=True, exist_ok=True)
    return directory / (USER_STREAM + LOG_FILE_SUFFIX)


def user_stream_owners(settings: Settings) -> list[str]:
    """Every user with a consent stream, sorted."""
    users = settings.log_root / "users"
    if not users.is_dir():
        return []
    return sorted(
        entry.name
        for entry in users.iterdir()
        if _ID_RE.fullmatch(entry.name) and (entry / (USER_STREAM + LOG_FILE_SUFFIX)).is_file()
    )


# Dataset exports (docs/export.md): each export's folder, and the key its pseudonyms are derived with.
EXPORTS_DIR = "exports"
EXPORT_KEY = "export-pseudonym.key"


def exports_dir(settings: Settings, *, create: bool = False) -> Path:
    """`<DATA_ROOT>/exports/`: one folder per export made through the API."""
    directory = settings.data_root / EXPORTS_DIR
    if create:
        directory.mkdir(parents=True, exist_ok=True)
    return directory


def export_dir(settings: Settings, export_id: str) -> Path:
    """`<DATA_ROOT>/exports/<export_id>/`."""
    return exports_dir(settings) / require_safe_id(export_id, "export_id")


def export_key_path(settings: Settings) -> Path:
    """`<DATA_ROOT>/export-pseudonym.key`: the secret participant and sequence ids are derived with
    (never exported; without it an export's ids cannot be traced back to users)."""
    return settings.data_root / EXPORT_KEY


# The per-user recognition stream (docs/recognition.md): `recognizer.built` and `gesture.recognized`.
RECOGNITION_STREAM = "recognition"


def recognition_stream_path(settings: Settings, user_id: str, *, create_dir: bool = False) -> Path:
    """`<LOG_ROOT>/users/<user_id>/recognition` + the log suffix: one user's recognitions and builds."""
    directory = settings.log_root / "users" / require_safe_id(user_id, "user_id")
    if create_dir:
        directory.mkdir(parents=True, exist_ok=True)
    return directory / (RECOGNITION_STREAM + LOG_FILE_SUFFIX)
