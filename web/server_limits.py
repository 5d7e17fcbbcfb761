"""Connection-level HTTP limits, in the server's protocol (uvicorn's httptools implementation, subclassed:
the C parser costs a fraction of pure-Python h11's CPU per request, bench.api --profile).

What an application never sees because no request has been parsed yet (docs/limits.md):

- a request head still incomplete past `max_head_bytes`: 431, closed (counted here: the parser itself
  has no cap);
- no complete head within `head_timeout_s` of the connection or of the previous response: 408, closed
  (uvicorn itself bounds only the idle wait between requests);
- more than `max_connections_per_client` open connections from one address: 503, closed at once.

Complete heads over the cap, body stalls and slow bodies are the ASGI middleware's (web.request_limits).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from a3cp.config import HttpLimits
from web.error_table import kind_of


def raw_error(status: int, code: str, message: str) -> bytes:
    """A complete `Connection: close` error response with the usual JSON body, as bytes."""
    body = json.dumps({"error": code, "message": message, "fields": []}).encode()
    reason = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}
    head = (
        f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of `limits` (bound by `protocol_for`).

    While a head is awaited `_head_timer` runs; it is cancelled once the parser has the whole head."""

    limits: HttpLimits = HttpLimits()
    per_client: Counter[str] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._counted: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else ""
        if self.per_client[host] >= self.limits.max_connections_per_client:
            self._refuse(503, "too_many_connections", "too many open connections from this address")
            return
        self.per_client[host] += 1
        self._counted = host
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        incomplete_head = self._head_timer is not None and not self.transport.is_closing()
        if incomplete_head and self._head_bytes > self.limits.max_head_bytes:
            self._refuse(
                431, "request_head_too_large", f"the request head exceeds {self.limits.max_head_bytes} bytes"
            )

    def on_headers_complete(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()  # the head is complete: the body's limits are the middleware's
            self._head_timer = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        pipelined = self.cycle is not None and not self.cycle.response_complete  # its head already parsed
        if not self.transport.is_closing() and not pipelined:
            self._await_head()

    def handle_websocket_upgrade(self) -> None:
        self._release()  # the WebSocket is bounded by capture capacity and its own timeouts
        super().handle_websocket_upgrade()

    def _await_head(self) -> None:
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refuse(
                408, "request_timeout", f"no complete request head within {self.limits.head_timeout_s:g} s"
            )

    def _refuse(self, status: int, code: str, message: str) -> None:
        assert kind_of(code).http_status == status  # the error table has the row
        self._release()
        self.logger.info("refused %s:%s: %s %s", *(self.client or ("?", 0)), status, message)
        self.transport.write(raw_error(status, code, message))
        self.transport.close()

    def _release(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._counted is not None:
            self.per_client[self._counted] -= 1
            if self.per_client[self._counted] <= 0:
                del self.per_client[self._counted]
            self._counted = None


def protocol_for(limits: HttpLimits) -> type[LimitedHttpProtocol]:
    """The protocol class to give uvicorn (`http=`), bound to `limits`, with its own connection counts."""
    return type("BoundHttpProtocol", (LimitedHttpProtocol,), {"limits": limits, "per_client": Counter()})


def uvicorn_options(limits: HttpLimits, workers: int = 1) -> dict[str, Any]:
    """uvicorn.run keyword arguments for these limits (several workers: by name, web/worker_protocol.py)."""
    return {
        "http": protocol_for(limits) if workers == 1 else "web.worker_protocol:WorkerHttpProtocol",
        "workers": workers,
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": 5,
    }
