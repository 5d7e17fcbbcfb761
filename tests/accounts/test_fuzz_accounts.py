"""Hostile input on the account routes: schemathesis draws schema-conforming and schema-violating requests
for every account operation of the OpenAPI description, sent with an admin's token; every answer below 500,
carry no stack trace, and every 4xx must be an ErrorResponse naming the field where one applies."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.accounts.service import AccountService
from a3cp.config import Settings
from tests.reliability.test_fuzz_openapi import assert_clean_answer
from web.app import ACCOUNT_ROUTE_MODULES, create_app, openapi_document

EXAMPLES = 25  # per operation and mode: a few seconds each on 2 cores
OPERATIONS = [(op.method, op.path) for module in ACCOUNT_ROUTE_MODULES for op in module.operations]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzzed_account_operation_answers_cleanly(
    method: str, path: str, settings: Settings, people: AccountService
) -> None:
    app = create_app(settings)
    app.state.accounts = people
    document = openapi_document(ACCOUNT_ROUTE_MODULES)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    app.router.routes.insert(0, Route("/openapi.json", openapi))
    token, _ = people.issue_token("boss")
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def call(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            content_type = ",".join(response.headers.get("content-type", []))
            sent = repr((case.path_parameters, case.query, case.headers, case.body))
            assert_clean_answer(response.status_code, content_type, response.text, sent)

        call()
