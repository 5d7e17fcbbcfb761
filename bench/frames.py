"""The benchmark's camera: 480p JPEG frames of the real-person fixture (bench/person.py,
scikit-image's astronaut portrait on a wide canvas), swaying sideways like a person in front of a
webcam, encoded as the demo page's canvas does (JPEG quality 80)."""

from __future__ import annotations

import math

import cv2

from bench.person import portrait_on_canvas

WIDTH, HEIGHT = 640, 480
FPS = 15
JPEG_QUALITY = 80


def jpeg_frames(count: int) -> list[bytes]:
    """`count` encoded frames; 1800 of them are a maximum capture (120 s at 15 fps)."""
    frames = []
    for index in range(count):
        canvas = portrait_on_canvas(WIDTH, HEIGHT, round(12 * math.sin(index / 9)))
        ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        assert ok
        frames.append(encoded.tobytes())
    return frames
