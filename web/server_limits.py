"""Connection-level HTTP limits, in the server's protocol (uvicorn's h11 implementation, subclassed).

What an application never sees because no request has been parsed yet (docs/limits.md):

- a request head still incomplete past `max_head_bytes`: 431, closed (h11's incomplete-event cap is set
  to the same size; its error is answered 431 here instead of uvicorn's 400);
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

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

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


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits of `limits` (bound by `protocol_for`)."""

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
        if self._head_timer is not None and self.conn.their_state is not h11.IDLE:
            self._head_timer.cancel()  # the head is complete: the body's limits are the middleware's
            self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def send_400_response(self, msg: str) -> None:
        if self._head_bytes > self.limits.max_head_bytes:
            self._refuse(
                431, "request_head_too_large", f"the request head exceeds {self.limits.max_head_bytes} bytes"
            )
        else:
            super().send_400_response(msg)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._release()  # the WebSocket is bounded by capture capacity and its own timeouts
        super().handle_websocket_upgrade(event)

    def _await_head(self) -> None:
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._refuse(
                408, "request_timeout", f"no complete request head within {self.limits.head_timeout_s:g} s"
            )

    def _refuse(self, status: int, code: str, message: str) -> None:
        assert kind_of(code).http_status == status  # the error table has the row
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


def protocol_for(limits: HttpLimits) -> type[LimitedH11Protocol]:
    """The protocol class to give uvicorn (`http=`), bound to `limits`, with its own connection counts."""
    return type("BoundH11Protocol", (LimitedH11Protocol,), {"limits": limits, "per_client": Counter()})


def uvicorn_options(limits: HttpLimits, workers: int = 1) -> dict[str, Any]:
    """uvicorn.run keyword arguments for these limits (several workers: by name, web/worker_protocol.py)."""
    return {
        "http": protocol_for(limits) if workers == 1 else "web.worker_protocol:WorkerH11Protocol",
        "workers": workers,
        "h11_max_incomplete_event_size": limits.max_head_bytes,
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": 5,
    }
