"""Speaking the WebSocket capture protocol from Python against the real app (Starlette TestClient).

Frames are real JPEGs of scikit-image's astronaut.png (NASA portrait, public domain) with small
shifts, so the real pipeline (MediaPipe Holistic) runs on a real person. Timeouts are shortened
through Settings so the timeout tests take well under a second each.
"""

from tests.fixtures.ws_fixtures import jpeg_frames, settings  # noqa: F401 (fixtures of this folder)
