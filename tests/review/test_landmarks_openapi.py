"""The landmarks route is in /openapi.json as a binary answer in its own media type, and it is gzipped
only for a client that accepts gzip."""

from __future__ import annotations

from starlette.testclient import TestClient

from web.routes.curation import LANDMARKS_MEDIA_TYPE


def test_landmarks_route_is_documented_as_binary(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/records/{record_id}/landmarks"]["get"]
    content = operation["responses"]["200"]["content"]
    assert content == {LANDMARKS_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}
    assert "timestamps_ms" in operation["responses"]["200"]["description"]
    assert {"401", "404", "410"} <= set(operation["responses"])
    assert operation["parameters"][0]["name"] == "record_id"
