"""Decode one uploaded frame (JPEG or PNG bytes) to RGB pixels in memory; frames never touch disk.

The image header is read first (Pillow, lazily, no pixel data) so a "bomb" declaring huge dimensions
or a frame of the wrong size is refused before any pixel buffer is allocated.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from a3cp.domain.errors import CaptureRejected

_FORMATS = {"JPEG", "PNG"}
_JPEG_END = b"\xff\xd9"  # end-of-image marker: its absence means a truncated upload


def decode_frame(data: bytes, index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Frame `index` as an (height, width, 3) uint8 RGB array, or CaptureRejected naming the frame."""
    field = f"frame[{index}]"
    if not data:
        raise CaptureRejected("frame_decode_failed", f"frame {index} is empty", field)
    try:
        with Image.open(io.BytesIO(data)) as header:
            kind, size = header.format, header.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise CaptureRejected(
            "frame_decode_failed", f"frame {index} is not a JPEG or PNG image", field
        ) from None
    if kind not in _FORMATS:
        raise CaptureRejected("frame_decode_failed", f"frame {index} is {kind}, not JPEG or PNG", field)
    if kind == "JPEG" and not data.endswith(_JPEG_END):
        raise CaptureRejected("frame_decode_failed", f"frame {index} is a truncated JPEG", field)
    if size != (width, height):
        raise CaptureRejected(
            "frame_size_mismatch", f"frame {index} is {size[0]}x{size[1]}, meta says {width}x{height}", field
        )
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None or pixels.shape[:2] != (height, width):
        raise CaptureRejected("frame_decode_failed", f"frame {index} could not be decoded", field)
    rgb: npt.NDArray[np.uint8] = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)
    return rgb
