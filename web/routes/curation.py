"""Curation and playback of one capture (docs/privacy.md): relabel, discard, restore, and
`GET /records/{record_id}/landmarks`, its features for playback (410 once erased).

A record the account may not read answers 404 exactly like an unknown one. Landmark body
(`application/x-a3cp-landmarks`): a 4-byte little-endian header length N, N bytes of JSON header
(`{"shape": [T, 1662], "dtype": "<f4", "timestamps_ms": [...]}`), then the T×1662 float32 values,
little-endian, row-major: the .npz array bit for bit, NaN (part not found or not stored) included.
Gzipped when the client accepts it.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from a3cp.accounts.policy import Action, Role
from a3cp.domain.consent import require_consent, require_not_erased
from a3cp.domain.errors import RecordNotFound
from a3cp.domain.events import FEATURE_EVENT
from a3cp.schemas import (
    AuditAction,
    CurationChange,
    DiscardInput,
    LabelInput,
    RecordLocation,
    RestoreInput,
    utc_now,
)
from a3cp.services.consent import ConsentService
from web.auth import Authenticated, require_account, require_login
from web.body import ModelT, parse_json_body
from web.openapi import Operation
from web.routes.consent import audit
from web.routes.sessions_read import record_id_param

LANDMARKS_MEDIA_TYPE = "application/x-a3cp-landmarks"
CURATION_ERRORS = (400, 401, 403, 404, 410, 503)  # ... erased, the projection (record lookup) down


def _hidden() -> RecordNotFound:
    return RecordNotFound("no such capture", "record_id")


async def _capture(request: Request, action: Action) -> tuple[RecordLocation, Authenticated]:
    """The capture `record_id` names, if the account may read it (404 otherwise) and take `action`;
    without credentials 401 before anything is looked up."""
    await require_login(request)
    record_id = record_id_param(request)
    reads = request.app.state.services.reads
    found: RecordLocation | None = await run_in_threadpool(reads.find_record, record_id)
    if found is None or found.event != FEATURE_EVENT:
        raise _hidden()
    auth = await require_account(request, Action.READ, found.user_id, hidden=_hidden())
    if action is not Action.READ:
        auth = await require_account(request, action, found.user_id)
    return found, auth


def _curate(
    service: ConsentService, kind: str, record: RecordLocation, account: str, fields: dict[str, str]
) -> CurationChange:
    event, curation = service.curate_capture(kind, record, account, **fields)
    return CurationChange(
        record_id=record.record_id, label=curation.label, status=curation.status, event=event.to_record()
    )


async def _curation_route(
    request: Request,
    kind: str,
    action: AuditAction,
    body_model: type[ModelT],
    fields_of: Callable[[ModelT], dict[str, str]],
) -> JSONResponse:
    """Who may curate this capture first (401/403/404 before the body is read), then the body."""
    record, auth = await _capture(request, Action.CAPTURE)
    fields = fields_of(await parse_json_body(request, body_model))
    service = request.app.state.services.consent
    change = await run_in_threadpool(_curate, service, kind, record, auth.principal.account, fields)
    await run_in_threadpool(audit, request, auth, action, record.user_id, record.record_id)
    return JSONResponse(change.model_dump(mode="json"))


async def label(request: Request) -> JSONResponse:
    return await _curation_route(
        request, "label", AuditAction.CAPTURE_LABELED, LabelInput, lambda body: {"label": body.label}
    )


async def discard(request: Request) -> JSONResponse:
    return await _curation_route(
        request, "discard", AuditAction.CAPTURE_DISCARDED, DiscardInput, lambda body: {"reason": body.reason}
    )


async def restore(request: Request) -> JSONResponse:
    return await _curation_route(request, "restore", AuditAction.CAPTURE_RESTORED, RestoreInput, lambda _: {})


def landmarks_body(
    data_root: Path, record: RecordLocation, consent: ConsentService, researcher: bool
) -> bytes:
    """The landmark body of one capture (see the module docstring); CaptureErasedError once erased, and
    ConsentRequired for a researcher unless the person consented to `research`."""
    state = consent.state(record.user_id)
    require_not_erased(state, record.record_id)
    if researcher:
        require_consent(state, "research", utc_now())
    ref = record.raw_features_ref
    if ref is None:
        raise _hidden()
    with np.load(data_root / ref.uri, allow_pickle=False) as npz:
        features = np.ascontiguousarray(npz["features"], dtype="<f4")
        timestamps = npz["timestamps_ms"].astype(np.int64).tolist()
    header = json.dumps({"shape": list(features.shape), "dtype": "<f4", "timestamps_ms": timestamps}).encode()
    out = io.BytesIO()
    out.write(struct.pack("<I", len(header)))
    out.write(header)
    out.write(features.tobytes(order="C"))
    return out.getvalue()


async def landmarks(request: Request) -> Response:
    record, auth = await _capture(request, Action.READ)
    services = request.app.state.services
    researcher = auth.principal.role is Role.RESEARCHER
    data_root = services.settings.data_root
    body = await run_in_threadpool(landmarks_body, data_root, record, services.consent, researcher)
    read = AuditAction.READ_LANDMARKS
    await run_in_threadpool(audit, request, auth, read, record.user_id, record.record_id)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=LANDMARKS_MEDIA_TYPE, headers=headers)


routes = [
    Route("/records/{record_id}/label", label, methods=["POST"]),
    Route("/records/{record_id}/discard", discard, methods=["POST"]),
    Route("/records/{record_id}/restore", restore, methods=["POST"]),
    Route("/records/{record_id}/landmarks", landmarks, methods=["GET"]),
]

LANDMARKS_DESCRIPTION = (
    "The capture's features for playback: a 4-byte little-endian header length N, N bytes of JSON header "
    '{"shape": [T, 1662], "dtype": "<f4", "timestamps_ms": [...]}, then T x 1662 little-endian float32 '
    "values, row-major (the .npz array bit for bit, NaN included). Content-Encoding gzip when the request's "
    "Accept-Encoding allows it (docs/privacy.md)."
)

operations = [
    Operation(
        "/records/{record_id}/landmarks",
        "GET",
        "One capture's landmark features for playback (binary; 410 once erased)",
        {},
        path_params=("record_id",),
        error_statuses=CURATION_ERRORS,
        binary_responses={200: (LANDMARKS_MEDIA_TYPE, LANDMARKS_DESCRIPTION)},
    ),
    *(
        Operation(
            f"/records/{{record_id}}/{name}",
            "POST",
            summary,
            {200: CurationChange},
            request_model=model,
            path_params=("record_id",),
            error_statuses=CURATION_ERRORS,
        )
        for name, model, summary in (
            ("label", LabelInput, "Set or change a capture's label (its original annotation stays logged)"),
            ("discard", DiscardInput, "Discard a capture (a bad take, the wrong person); its file is kept"),
            ("restore", RestoreInput, "Restore a discarded capture"),
        )
    ),
]
