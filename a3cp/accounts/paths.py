"""Where the access log, the audit trail, the credentials store and the TLS files live.

Log file names are built from the recorder's suffix constant, so no log name is spelled outside
eventstore/ (tests/spine/test_policy.py). These helpers are the only account code that creates folders.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from a3cp.config import Settings
from eventstore import LOG_FILE_SUFFIX

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
        directory.mkdir(parents=True, exist_ok=True)
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
