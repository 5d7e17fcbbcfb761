"""Stream a multipart/form-data body part by part without buffering it whole.

Each completed part is handed over as (name, bytes) as soon as its closing boundary arrives; a part
over its size cap, or a body over the total cap, is refused with 413 while streaming.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from a3cp.schemas import FieldError
from web.body import too_large
from web.errors import RequestRejected

PartLimit = Callable[[str], int]


def _bad_body(message: str) -> RequestRejected:
    return RequestRejected(400, "invalid_multipart", message, [FieldError(field="body", message=message)])


def multipart_boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data":
        raise RequestRejected(
            415,
            "unsupported_media_type",
            "the body must be multipart/form-data with a boundary",
            [FieldError(field="content-type", message="expected multipart/form-data")],
        )
    if not boundary:
        message = "multipart/form-data needs a boundary"
        raise RequestRejected(
            400, "invalid_multipart", message, [FieldError(field="content-type", message=message)]
        )
    return boundary


class _PartCollector:
    """python-multipart callbacks that gather each part's name and bytes under a per-part cap."""

    def __init__(self, limit_for: PartLimit) -> None:
        self.limit_for = limit_for
        self.completed: list[tuple[str, bytes]] = []
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._data = bytearray()
        self._limit = 0

    def on_part_begin(self) -> None:
        self._name, self._data = "", bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value)
            self._name = options.get(b"name", b"").decode("latin-1")
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        self._limit = self.limit_for(self._name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if len(self._data) + (end - start) > self._limit:
            raise too_large(self._limit)
        self._data += data[start:end]

    def on_part_end(self) -> None:
        self.completed.append((self._name, bytes(self._data)))
        self._data = bytearray()


async def stream_parts(
    request: Request, total_limit: int, limit_for: PartLimit
) -> AsyncIterator[tuple[str, bytes]]:
    """Yield (name, bytes) for every part, in order, as the body streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > total_limit:
        raise too_large(total_limit)
    collector = _PartCollector(limit_for)
    callbacks = {name: getattr(collector, name) for name in dir(collector) if name.startswith("on_")}
    parser = MultipartParser(multipart_boundary(request), callbacks)  # type: ignore[arg-type]
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > total_limit:
            raise too_large(total_limit)
        try:
            parser.write(chunk)
        except RequestRejected:
            raise
        except Exception as exc:  # python-multipart's parse errors
            raise _bad_body(f"malformed multipart body: {exc}") from None
        while collector.completed:
            yield collector.completed.pop(0)
    try:
        parser.finalize()
    except Exception as exc:
        raise _bad_body(f"malformed multipart body: {exc}") from None
    if parser.state != MultipartState.END:
        raise _bad_body("the multipart body ended before its closing boundary")
    while collector.completed:
        yield collector.completed.pop(0)
