"""The on-disk line format of a session log: one compact JSON object per line, UTF-8, `\n`-ended."""

from __future__ import annotations

import json
from typing import Any

LOG_FILE_SUFFIX = ".jsonl"

# Appended after an unterminated fragment (a crash mid-write) before the next event. It contains
# no quote or brace, so the fragment plus the marker can never parse as JSON: the fragment stays a
# skipped, reported torn line forever instead of turning into an event nobody acknowledged.
TORN_MARKER = b" #torn\n"


def encode_event(event: dict[str, Any]) -> bytes:
    """Serialise one event as a single log line (deterministic key order, no NaN)."""
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if "\n" in text:  # json.dumps escapes newlines; this guards the one-event-per-line invariant
        raise ValueError("encoded event contains a newline")
    return text.encode("utf-8") + b"\n"


def decode_line(line: bytes) -> dict[str, Any] | None:
    """Parse one complete line; None when it is not a JSON object (a torn or marked fragment)."""
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
