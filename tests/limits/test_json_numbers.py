"""Any JSON number in any JSON part is 400 naming the field, never 500 (hypothesis): integers past
Python's digit limit, huge and tiny exponents, NaN and Infinity literals, negative zero, put in place of
each field of the capture meta part, the extractor's spec and finish parts and the session bodies."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from starlette.testclient import TestClient

from a3cp.config import Settings
from bench.client import CAPTURE_PATH, capture_meta, request_body
from web.app import create_app

NUMBERS = st.one_of(
    st.integers(min_value=4290, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=4290, max_value=6000).map(lambda n: "-" + "1" * n),
    st.sampled_from(["1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "-0", "1.5", "0"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
PLACEHOLDER = "__NUMBER__"


def with_number(document: dict[str, Any], field: str, literal: str) -> str:
    return json.dumps({**document, field: PLACEHOLDER}).replace(f'"{PLACEHOLDER}"', literal)


def assert_refused_naming(response: Any, field: str, part: str | None = None) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if body.get("error") in ("validation_error", "invalid_json"):
        named = {f["field"] for f in body["fields"]}
        expected = f"{part}.{field}" if part else field
        assert any(name == expected or name.startswith(expected + ".") or name == part for name in named), (
            field,
            body,
        )


def multipart_body(parts: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    chunks = [
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\nContent-Type: application/json\r\n\r\n'
        f"{value}\r\n"
        for name, value in parts
    ]
    return ("".join(chunks) + "--b--\r\n").encode(), {"content-type": "multipart/form-data; boundary=b"}


SPEC_FIELDS = list(capture_meta("s", frames=3))


@examples(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(SPEC_FIELDS), literal=NUMBERS)
def test_numbers_in_the_capture_meta_part(client: TestClient, field: str, literal: str) -> None:
    body, headers = multipart_body([("meta", with_number(capture_meta("s1", frames=3), field, literal))])
    assert_refused_naming(client.post(CAPTURE_PATH, content=body, headers=headers), field, "meta")


@examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from([*request_body()]), literal=NUMBERS)
def test_numbers_in_session_bodies(client: TestClient, field: str, literal: str) -> None:
    response = client.post(
        "/session_manager/sessions.start",
        content=with_number(request_body(), field, literal),
        headers={"content-type": "application/json"},
    )
    assert_refused_naming(response, field)


@examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(part=st.sampled_from(["spec", "finish"]), field=st.sampled_from(SPEC_FIELDS), literal=NUMBERS)
def test_numbers_in_the_extractor_parts(settings: Settings, part: str, field: str, literal: str) -> None:
    client = TestClient(create_app(replace(settings, role="extractor")))
    spec = capture_meta("s1", frames=3)
    finish = {"timestamp_end": spec["timestamp_end"]}
    if part == "spec":
        parts = [("spec", with_number(spec, field, literal)), ("finish", json.dumps(finish))]
    else:
        parts = [("spec", json.dumps(spec)), ("finish", with_number(finish, "timestamp_end", literal))]
        field = "timestamp_end"
    body, headers = multipart_body(parts)
    assert_refused_naming(
        client.post("/internal/extractor/captures", content=body, headers=headers), field, part
    )
