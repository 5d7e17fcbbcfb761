"""The HTTP protocol of `a3cp serve --workers N` (N > 1), by name: uvicorn sends its settings to each
worker process by pickling them, and the class `protocol_for` builds at run time cannot be pickled, so
each worker imports this one, bound to the limits of its own environment (the same variables the
parent read). Connection counts are then per worker (docs/limits.md)."""

from __future__ import annotations

from a3cp.config import Settings
from web.server_limits import protocol_for

WorkerHttpProtocol = protocol_for(Settings.from_env().http_limits)
