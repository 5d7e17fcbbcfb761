"""Hostile input: schemathesis fuzzes every operation of the real app's /openapi.json over ASGI.

The schema is loaded from the running app (no network, no hand-written copy); requests carry the fixture
carer's token. For each operation
schemathesis draws schema-conforming (positive) and schema-violating (negative) requests; every answer
must be below 500, carry no stack trace, and every 4xx must be an `ErrorResponse` JSON body (400/413
name the offending field). A wrapping ASGI app counts the requests that really reached the service,
for the report. Afterwards every session log the fuzzing produced must read back whole (no torn line)
with well-formed envelopes, and `verify` must find nothing wrong.

The capture upload gets AIMED_EXAMPLES more positive cases whose meta is pointed at a live session
with a valid time window, so drawn frame parts reach the guardrails and the frame decoder rather than
stopping at "no such session".

Example counts (derandomized, no example database): POSITIVE_EXAMPLES + NEGATIVE_EXAMPLES per
operation (100 requests each, plus the aimed capture cases), sized so the file stays around 20 s on
2 cores.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from a3cp.config import Settings
from a3cp.services.verify import verify
from a3cp.storage_layout import iter_session_logs
from bench.client import CAPTURE_PATH, capture_meta, start_session
from eventstore import read_log
from tests.fixtures.accounts import fixture_headers
from tests.spine.invariants import assert_event_invariants
from web.app import DATA_ROUTE_MODULES, create_app

POSITIVE_EXAMPLES = 40
NEGATIVE_EXAMPLES = 60
AIMED_EXAMPLES = 40  # capture cases pointed at a live session (see `aimed_at`)
AIMED_FIELDS = ("session_id", "user_id", "timestamp", "timestamp_start", "timestamp_end", "fps")
# The account routes have their own fuzz (tests/accounts/test_fuzz_accounts.py).
OPERATIONS = [(op.method, op.path) for module in DATA_ROUTE_MODULES for op in module.operations]
# Python's traceback shapes; an answer may only contain one if the request itself carried it (echoed ids).
TRACE_MARKERS = (re.compile(r"Traceback \(most recent call"), re.compile(r'File "[^"]*", line [0-9]+'))
FIELD_NAMED_STATUSES = (400, 413, 415)


class CountingApp:
    """Passes every HTTP request to `app` and counts it (the report's attempts are real requests)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)


def assert_clean_answer(status: int, content_type: str, text: str, sent: str) -> str | None:
    """No 5xx, no stack trace, and a 4xx is an ErrorResponse naming the field where one applies;
    returns the 4xx's error code."""
    assert status < 500, f"{status}: {text[:500]}"
    for marker in TRACE_MARKERS:
        leaked = set(marker.findall(text)) - set(marker.findall(sent))
        assert not leaked, f"stack trace in a {status} answer: {text[:500]}"
    if status < 400:
        return None
    assert content_type.split(";")[0].strip() == "application/json", (status, content_type, text[:200])
    body = json.loads(text)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body.get("message"), body
    assert isinstance(body.get("fields"), list), body
    if status in FIELD_NAMED_STATUSES:
        assert body["fields"] and all(isinstance(f.get("field"), str) and f["field"] for f in body["fields"])
    return body["error"]


def assert_logs_valid(settings: Settings) -> int:
    """Every session log reads back whole with valid envelopes; returns how many events there are."""
    events = 0
    for path in iter_session_logs(settings):
        read = read_log(path)
        assert not read.torn, f"torn line in {path}"
        assert len(path.read_bytes().splitlines()) == len(read.events), path
        for event in read.events:
            assert_event_invariants(event)
        events += len(read.events)
    report = verify(settings)
    assert report.ok, report.failure_lines()
    return events


def aimed_at(session_id: str) -> Callable[[schemathesis.Case], schemathesis.Case]:
    """Point a drawn capture's meta at a live session, with a valid 3 s window and a frame_count equal to
    its frame parts, so the drawn frames get past the session and duration checks to the frame decoder."""

    def aim(case: schemathesis.Case) -> schemathesis.Case:
        meta = case.body.get("meta") if isinstance(case.body, dict) else None
        if isinstance(meta, dict):
            frames = case.body.get("frame")
            live = capture_meta(session_id)
            meta.update({key: live[key] for key in AIMED_FIELDS}, frame_timestamps_ms=None)
            meta["frame_count"] = max(1, len(frames)) if isinstance(frames, list) else 1
        return case

    return aim


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzzed_operation_answers_cleanly(
    method: str, path: str, settings: Settings, reliability_report: Any
) -> None:
    served = create_app(settings)
    credentials = fixture_headers(served)  # as the fixture carer, granted every user it names
    app = CountingApp(served)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema[path][method]
    statuses: Counter[int] = Counter()
    codes: set[str] = set()

    def fuzz(strategy: SearchStrategy[schemathesis.Case], examples: int) -> None:
        @hypothesis_settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers=credentials)
            statuses[response.status_code] += 1
            content_type = ",".join(response.headers.get("content-type", []))
            sent = repr((case.path_parameters, case.query, case.headers, case.body))
            code = assert_clean_answer(response.status_code, content_type, response.text, sent)
            if code is not None:
                codes.add(code)

        call()

    aimed = None
    if path == CAPTURE_PATH:
        with TestClient(app, headers=credentials) as client:
            aimed = operation.as_strategy(GenerationMode.POSITIVE).map(aimed_at(start_session(client)))
    baseline = app.requests
    fuzz(operation.as_strategy(GenerationMode.POSITIVE), POSITIVE_EXAMPLES)
    fuzz(operation.as_strategy(GenerationMode.NEGATIVE), NEGATIVE_EXAMPLES)
    if aimed is not None:
        fuzz(aimed, AIMED_EXAMPLES)
    requests = app.requests - baseline
    assert requests == sum(statuses.values()) and requests > 0
    events = assert_logs_valid(settings)
    seen = ", ".join(f"{status}×{count}" for status, count in sorted(statuses.items()))
    reliability_report.add(
        f"schemathesis fuzz of {method} {path} (positive + negative cases from /openapi.json"
        + (f", {AIMED_EXAMPLES} more aimed at a live session" if aimed is not None else "")
        + ", ASGI)",
        requests,
        f"no 5xx, no stack trace, every 4xx an ErrorResponse JSON body (answers: {seen}; "
        f"error codes: {', '.join(sorted(codes))}); "
        f"{events} recorded events all valid, verify clean",
    )
