"""The WebSocket capture fixtures of tests/limits: real-person JPEG frames and shortened WebSocket
timeouts (as tests/capture_ws has them; the shared `client` fixture serves the overridden `settings`)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from a3cp.config import Settings
from bench.person import portrait_on_canvas
from tests.fixtures.ws_capture import FRAME_SIZE


@pytest.fixture(scope="session")
def jpeg_frames() -> list[bytes]:
    """Twelve 320x240 JPEGs of the astronaut, shifted a few pixels each."""
    width, height = FRAME_SIZE
    frames = []
    for index in range(12):
        canvas = portrait_on_canvas(width, height, int(4 * np.sin(index)))
        ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        frames.append(encoded.tobytes())
    return frames


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with the WebSocket timeouts shortened (the `client` fixture serves them)."""
    return dataclasses.replace(
        settings, ws_meta_to_bytes_timeout_s=0.4, ws_idle_timeout_s=0.6, ws_session_recheck_s=0.0
    )
