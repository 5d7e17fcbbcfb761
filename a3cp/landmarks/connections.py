"""MediaPipe's connection lists (which landmarks a skeleton drawing joins), shipped as a data file.

The review page draws pose, hands and the face's contours from `web/static/data/connections.json`; the
ingest image has no MediaPipe, so the lists are generated once from `mediapipe.solutions` (run this module:
`python -m a3cp.landmarks.connections`) and a unit test proves the file still equals them. The face uses
FACEMESH_CONTOURS (lips, eyes, brows, oval), not the 2556-edge tessellation.
"""

from __future__ import annotations

import json
from pathlib import Path

CONNECTIONS_FILE = Path(__file__).resolve().parents[2] / "web" / "static" / "data" / "connections.json"
Edges = list[list[int]]


def from_mediapipe() -> dict[str, Edges]:
    """The three lists as sorted [a, b] pairs, read from the installed MediaPipe."""
    from mediapipe.python.solutions import (  # type: ignore[import-untyped]
        face_mesh_connections,
        hands_connections,
        pose_connections,
    )

    lists = {
        "pose": pose_connections.POSE_CONNECTIONS,
        "hand": hands_connections.HAND_CONNECTIONS,
        "face_contours": face_mesh_connections.FACEMESH_CONTOURS,
    }
    return {name: sorted([int(a), int(b)] for a, b in edges) for name, edges in lists.items()}


def shipped() -> dict[str, Edges]:
    """The lists as the project ships them."""
    data: dict[str, Edges] = json.loads(CONNECTIONS_FILE.read_text(encoding="utf-8"))
    return data


if __name__ == "__main__":
    CONNECTIONS_FILE.write_text(json.dumps(from_mediapipe(), separators=(",", ":")) + "\n", encoding="utf-8")
