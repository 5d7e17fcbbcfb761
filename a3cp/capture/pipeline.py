"""The capture pipeline seam: what the transports drive, whether extraction runs here or in another process.

`CaptureService` (a3cp.services.captures, MediaPipe in this process) and `RemoteCaptureService`
(a3cp.capture.remote, the ingest role forwarding to the extractor) both implement `CapturePipeline`; the
captures they open implement `OpenCapture`. Frame times cross the seam as datetimes (WebSocket) or epoch
milliseconds (multipart); `epoch_ms` and `timestamp_text` are the one conversion each. `latest_frame`
feeds the live preview (a3cp.landmarks.preview): only a pipeline that tracks in this process has one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from a3cp.landmarks.layout import FeatureRow
from a3cp.schemas import CaptureSpec, format_timestamp

LatestFrame = tuple[int, FeatureRow]  # the newest tracked frame: its index in the capture, its row


class OpenCapture(Protocol):
    """One capture in progress: push frames, then finish (the 201 body as JSON data) or abort."""

    async def push(self, image: bytes, timestamp: datetime | int | None = None) -> None: ...

    async def finish(self, timestamp_end: datetime | str | None = None) -> dict[str, Any]: ...

    async def abort(self) -> None: ...

    def latest_frame(self) -> LatestFrame | None: ...


class CapturePipeline(Protocol):
    """Opens captures after the cheap checks (declaration, session, record_id)."""

    async def open_async(self, spec: CaptureSpec) -> OpenCapture: ...


def epoch_ms(timestamp: datetime | int | None) -> int | None:
    """A frame time as epoch milliseconds (None stays None: the policy derives it)."""
    return round(timestamp.timestamp() * 1000) if isinstance(timestamp, datetime) else timestamp


def timestamp_text(timestamp: datetime | str | None) -> str | None:
    """An end time as its wire text (None stays None: the declared end applies)."""
    return format_timestamp(timestamp) if isinstance(timestamp, datetime) else timestamp
