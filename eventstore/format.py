"""The on-disk line format of a session log: one compact JSON object per line, UTF-8, `\n`-ended.

Lines are written with the standard library (deterministic, as they always were) and read with
orjson, about 3x faster than `json.loads` (every rebuild and catch-up parses every line). orjson is
strict JSON: a hand-made line with NaN, a lone surrogate or an integer beyond 64 bits reads as torn;
the service never writes such a line.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

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
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
