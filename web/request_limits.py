"""Request-level HTTP limits as ASGI middleware (docs/limits.md): a complete head over `max_head_bytes`
is 431; inside a body, a pause past `body_idle_timeout_s`, or an average rate under
`min_upload_bytes_per_s` once `rate_grace_s` have passed, is 408 with `Connection: close`.

The body limits wrap the request's receive channel, so they apply to every route while it reads the
body (the streamed capture uploads included) and the route's own error path runs as for any refusal.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a3cp.config import HttpLimits
from a3cp.schemas import FieldError
from web.errors import RequestRejected, error_response

_CLOSE = {"Connection": "close"}


def _too_slow(message: str) -> RequestRejected:
    return RequestRejected(
        408, "request_timeout", message, [FieldError(field="body", message=message)], _CLOSE
    )


class RequestLimits:
    def __init__(self, app: ASGIApp, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = len(scope.get("raw_path") or b"") + sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if head > self.limits.max_head_bytes:
            message = f"the request head exceeds {self.limits.max_head_bytes} bytes"
            await error_response(431, "request_head_too_large", message, headers=_CLOSE)(scope, receive, send)
            return
        await self.app(scope, self._bounded(receive), send)

    def _bounded(self, receive: Receive) -> Receive:
        limits = self.limits
        started = time.monotonic()
        received = 0
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()  # e.g. waiting for the disconnect after the body
            try:
                message = await asyncio.wait_for(receive(), limits.body_idle_timeout_s)
            except TimeoutError:
                raise _too_slow(f"the body stalled for more than {limits.body_idle_timeout_s:g} s") from None
            received += len(message.get("body", b""))
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            elapsed = time.monotonic() - started
            if (
                not body_done
                and elapsed > limits.rate_grace_s
                and received < limits.min_upload_bytes_per_s * elapsed
            ):
                raise _too_slow(f"the body arrived slower than {limits.min_upload_bytes_per_s:g} bytes/s")
            return message

        return bounded_receive
