"""`GET /contract.json`: the limits, schema version and every error code with its words, for clients.

Generated from a3cp.config's limits and the error table (web/error_table.py), so the browser
(web/static/js/api.js) reads the contract from the server instead of keeping a copy that drifts.
No caller is needed: nothing here is about a user.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp import config
from a3cp.config import MAX_FRAME_SIDE
from a3cp.schemas import ClientContract, ErrorCodeContract
from web.error_table import ERRORS
from web.openapi import Operation

PATH = "/contract.json"


def client_contract() -> ClientContract:
    limits = {
        "min_capture_seconds": config.MIN_CAPTURE_SECONDS,
        "max_capture_seconds": config.MAX_CAPTURE_SECONDS,
        "max_fps": config.MAX_FPS,
        "max_frame_side": MAX_FRAME_SIDE,
        "max_frame_pixels": config.MAX_FRAME_PIXELS,
        "max_frames": config.MAX_FRAMES,
        "max_frame_bytes": config.MAX_FRAME_BYTES,
        "max_capture_bytes": config.MAX_CAPTURE_BYTES,
        "max_json_body_bytes": config.MAX_JSON_BODY_BYTES,
    }
    errors = {
        code: ErrorCodeContract(
            http_status=kind.http_status, ws_close=kind.ws_close, ws_code=kind.ws_code, words=kind.words
        )
        for code, kind in sorted(ERRORS.items())
    }
    return ClientContract(schema_version=config.SCHEMA_VERSION, limits=limits, errors=errors)


_DOCUMENT = client_contract().model_dump(mode="json")


async def get_contract(request: Request) -> JSONResponse:
    return JSONResponse(_DOCUMENT)


routes = [Route(PATH, get_contract, methods=["GET"])]

# Like /openapi.json and /healthz, a document about the service rather than an operation of it: not
# listed in the OpenAPI document (whose GET operations are the caller-scoped reads).
operations: list[Operation] = []
