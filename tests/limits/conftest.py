"""The WebSocket capture fixtures (frames, shortened timeouts, client) shared with tests/capture_ws."""

from tests.capture_ws.conftest import jpeg_frames, ws_client, ws_settings

__all__ = ["jpeg_frames", "ws_client", "ws_settings"]
