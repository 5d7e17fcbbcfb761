"""The WebSocket capture fixtures of tests/limits: real-person JPEG frames and shortened WebSocket
timeouts (as tests/capture_ws has them; the shared `client` fixture serves the overridden `settings`)."""

from tests.fixtures.ws_fixtures import jpeg_frames, settings  # noqa: F401 (fixtures of this folder)
