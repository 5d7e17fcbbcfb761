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

# Server clock (docs/limits.md): a WebSocket capture ends this long after its open by the server's own
# clock, whatever its frame times say (the capture's own cap plus a grace for network and extraction).
CAPTURE_WALL_GRACE_S = 5.0
# Frames received but not yet handed to extraction, per WebSocket capture (5 s at MAX_FPS: a few hundred
# KiB of typical 480p JPEGs, 150 MiB at the 2 MiB frame cap); past it the capture is aborted
# `extraction_behind` instead of the server ceasing to read the socket.
EXTRACTION_BACKLOG_FRAMES = 75

# HTTP connection limits (docs/limits.md), enforced by web.server_limits (uvicorn's httptools protocol) and
# web.request_limits (ASGI); each can be set from the environment (`HttpLimits.from_env`).
MAX_REQUEST_HEAD_BYTES = 16 * 1024


@dataclass(frozen=True)
class HttpLimits:
    """How long and how slowly a client may send one request, and how many connections it may hold."""

    max_head_bytes: int = MAX_REQUEST_HEAD_BYTES  # request line + headers; past it: 431, closed
    head_timeout_s: float = 10.0  # from connection (or the previous response) to a complete head: 408
    body_idle_timeout_s: float = 10.0  # the longest pause inside a request body: 408, closed
    # Average body rate once `rate_grace_s` have passed, else 408. Low on purpose: the ingest role streams a
    # WebSocket capture to the extractor as it arrives, which at 1 fps of small JPEGs is a few KiB/s.
    min_upload_bytes_per_s: float = 1024
    rate_grace_s: float = 10.0
    max_connections_per_client: int = 32  # open HTTP connections from one address; past it: 503, closed
    max_connections: int = 1024  # all connections and WebSockets (uvicorn limit_concurrency): 503

    @classmethod
    def from_env(cls) -> HttpLimits:
        defaults = cls()
        return cls(
            max_head_bytes=int(os.environ.get("A3CP_MAX_HEAD_BYTES") or defaults.max_head_bytes),
            head_timeout_s=float(os.environ.get("A3CP_HEAD_TIMEOUT_S") or defaults.head_timeout_s),
            body_idle_timeout_s=float(
                os.environ.get("A3CP_BODY_IDLE_TIMEOUT_S") or defaults.body_idle_timeout_s
            ),
            min_upload_bytes_per_s=float(
                os.environ.get("A3CP_MIN_UPLOAD_BYTES_PER_S") or defaults.min_upload_bytes_per_s
            ),
            rate_grace_s=float(os.environ.get("A3CP_UPLOAD_RATE_GRACE_S") or defaults.rate_grace_s),
            max_connections_per_client=int(
                os.environ.get("A3CP_MAX_CONNECTIONS_PER_CLIENT") or defaults.max_connections_per_client
            ),
            max_connections=int(os.environ.get("A3CP_MAX_CONNECTIONS") or defaults.max_connections),
        )


# Capacity (docs/limits.md): captures extracting at once in one process, across HTTP, WebSocket and the
# extractor role; one more is refused at open and told to retry after CAPACITY_RETRY_AFTER_S.
CAPACITY_RETRY_AFTER_S = 2


def default_max_captures() -> int:
    """One capture per core this process may run on: each capture's Holistic graph keeps one core busy."""
    return len(os.sched_getaffinity(0))


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
    max_captures: int = 0  # 0: default_max_captures()
    http_limits: HttpLimits = HttpLimits()
    # docs/privacy.md: a capture needs the person's recorded `capture` consent unless the deployment
    # says A3CP_CONSENT_REQUIRED=0 (any other value keeps it on: an unclear setting fails closed).
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
        max_captures = int(os.environ.get("A3CP_MAX_CAPTURES") or default_max_captures())
        if max_captures < 1:
            raise ValueError("A3CP_MAX_CAPTURES must be at least 1")
        return cls(
            data_root=data_root,
            log_root=log_root,
            db_url=db_url,
            session_timeout_s=timeout,
            role=role,
            extractor_url=extractor_url,
            max_captures=max_captures,
            http_limits=HttpLimits.from_env(),
        )

    @property
    def capture_capacity(self) -> int:
        return self.max_captures or default_max_captures()
