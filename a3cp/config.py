"""Runtime settings (read once from the environment) and the service's limits.

Paths, ids that become paths and directory creation live in a3cp.storage_layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = "1.0.1"

# Capture guardrails. One place, used by HTTP and WebSocket ingest.
MIN_CAPTURE_SECONDS = 2.0
MAX_CAPTURE_SECONDS = 120.0
MAX_FPS = 15.0
MAX_FRAME_PIXELS = 640 * 480
MAX_FRAME_SIDE = 640  # either orientation of 640x480 fits; MAX_FRAME_PIXELS bounds the area
MAX_FRAMES = 1800
# Room for the longest capture (1800 frames) of 480p JPEGs averaging up to ~109 KiB: a detailed scene at
# JPEG quality 80 is ~40 KiB, so 64 MiB refused real 120 s captures (docs/benchmarks.md).
MAX_CAPTURE_BYTES = 192 * 1024 * 1024
MAX_FRAME_BYTES = 2 * 1024 * 1024
MAX_JSON_BODY_BYTES = 64 * 1024

# Process roles (docs/deployment.md): one process does everything, or ingest forwards captures to extractor.
ROLES = ("all", "ingest", "extractor")
DEFAULT_EXTRACTOR_URL = "http://127.0.0.1:8001"


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
    # docs/privacy.md: a capture needs the person's recorded `capture` consent. Off only by an explicit
    # A3CP_CONSENT_REQUIRED=0 (a deployment that records consent elsewhere; the legacy test suites).
    consent_required: bool = field(
        default_factory=lambda: os.environ.get("A3CP_CONSENT_REQUIRED", "1") != "0"
    )

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
