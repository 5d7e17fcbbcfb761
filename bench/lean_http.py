"""A lean HTTP/1.1 client for load generators: one keep-alive connection over raw asyncio streams, JSON
POSTs whose answers are read by Content-Length and parsed.

httpx costs about 1 ms of CPU per request, which on a 2-core machine is taken from the server under test;
this costs a small fraction of that, so a benchmark measures the server rather than its client.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LeanConnection:
    """One persistent connection to `url` (http:// only), sending `headers` with every request."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"LeanConnection speaks plain http only, not {url!r}")
        self._host, self._port = parts.hostname, parts.port or 80
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._head = f"Host: {parts.netloc}\r\nContent-Type: application/json\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanConnection:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def post_json(self, path: str, body: dict[str, Any]) -> Answer:
        assert self._reader is not None and self._writer is not None, "use `async with`"
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = f"POST {path} HTTP/1.1\r\n{self._head}Content-Length: {len(payload)}\r\n\r\n"
        self._writer.write(head.encode() + payload)
        status_and_headers = await self._reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = dict(line.split(":", 1) for line in lines[1:] if line)
        length = {name.strip().lower(): value.strip() for name, value in fields.items()}.get("content-length")
        if length is None:
            raise ValueError(f"answer to {path} has no Content-Length (status {status})")
        return Answer(status, await self._reader.readexactly(int(length)))
