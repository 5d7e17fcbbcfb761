"""Login-session and throttling limits, read from the environment (docs/security.md lists them)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MIN_PASSWORD_LENGTH = 12
SETUP_LINK_TTL_S = 3600.0


@dataclass(frozen=True)
class LoginLimits:
    idle_timeout_s: float = 30 * 60.0  # A3CP_LOGIN_IDLE_S
    absolute_timeout_s: float = 12 * 3600.0  # A3CP_LOGIN_ABSOLUTE_S
    max_failures: int = 5  # A3CP_LOGIN_MAX_FAILURES: failed logins per account, and per address, in...
    failure_window_s: float = 15 * 60.0  # A3CP_LOGIN_FAILURE_WINDOW_S

    @classmethod
    def from_env(cls) -> LoginLimits:
        return cls(
            idle_timeout_s=float(os.environ.get("A3CP_LOGIN_IDLE_S", cls.idle_timeout_s)),
            absolute_timeout_s=float(os.environ.get("A3CP_LOGIN_ABSOLUTE_S", cls.absolute_timeout_s)),
            max_failures=int(os.environ.get("A3CP_LOGIN_MAX_FAILURES", cls.max_failures)),
            failure_window_s=float(os.environ.get("A3CP_LOGIN_FAILURE_WINDOW_S", cls.failure_window_s)),
        )
