"""Recognition routes (docs/recognition.md, *Service*): `GET /users/{user_id}/vocabulary`, the labels a
person's recognizer is built from, and `POST /users/{user_id}/recognize` with `{"record_id": ...}`, the
recognition of a capture already recorded (each one a `gesture.recognized` event).

Reading the vocabulary needs read access to the person; recognizing needs a carer's (capture) access, as
confirming or correcting the answer (`POST /records/{id}/label`) does. Both are audited.
"""

from __future__ import annotations

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from a3cp.accounts.policy import Action
from a3cp.domain.errors import UserNotFound
from a3cp.schemas import (
    AuditAction,
    LabelScore,
    RecognitionView,
    RecognizeInput,
    UnusableVocabularyExample,
    VocabularyExample,
    VocabularyLabel,
    VocabularyView,
)
from a3cp.services.recognition import RecognitionOutcome, Vocabulary
from a3cp.storage_layout import require_safe_id
from web.access import data_request
from web.body import parse_json_body
from web.openapi import Operation


def vocabulary_view(vocabulary: Vocabulary) -> VocabularyView:
    labels = []
    for label, examples in vocabulary.by_label.items():
        # the per-part fractions of frames (not flags such as face_stored), averaged over the examples
        parts = sorted({part for e in examples for part, v in e.quality.items() if type(v) is float})
        quality = {
            part: round(float(np.mean([float(e.quality.get(part, 0.0)) for e in examples])), 4)
            for part in parts
        }
        records = [
            VocabularyExample(record_id=e.record_id, session_id=e.session_id, quality=dict(e.quality))
            for e in examples
        ]
        labels.append(VocabularyLabel(label=label, examples=len(examples), quality=quality, records=records))
    refusal = vocabulary.refusal
    return VocabularyView(
        user_id=vocabulary.user_id,
        trainable=refusal is None,
        reason=refusal.code if refusal is not None else None,
        message=refusal.message if refusal is not None else None,
        examples=len(vocabulary.examples),
        labels=labels,
        unusable=[
            UnusableVocabularyExample(
                record_id=u.example.record_id,
                session_id=u.example.session_id,
                label=u.example.label,
                reason=u.reason,
            )
            for u in vocabulary.unusable
        ],
    )


def recognition_view(user_id: str, outcome: RecognitionOutcome) -> RecognitionView:
    event = outcome.event
    return RecognitionView(
        record_id=event.capture_record_id,
        user_id=user_id,
        label=event.decision,
        scores=[LabelScore(label=top.label, score=top.score) for top in event.top],
        model_hash=event.model_hash,
        event=event.to_record(),
    )


async def get_vocabulary(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.READ_VOCABULARY) as access:
        user_id = require_safe_id(request.path_params["user_id"], "user_id")
        access.permit(Action.READ, user_id, hidden=UserNotFound("no such user", "user_id"))
        service = request.app.state.services.recognition
        vocabulary = await run_in_threadpool(service.vocabulary, user_id)
    return JSONResponse(vocabulary_view(vocabulary).model_dump(mode="json"))


async def recognize(request: Request) -> JSONResponse:
    async with data_request(request, AuditAction.RECOGNIZE) as access:
        user_id = require_safe_id(request.path_params["user_id"], "user_id")
        access.permit(Action.CAPTURE, user_id)
        body = await parse_json_body(request, RecognizeInput)
        access.object_id = body.record_id
        service = request.app.state.services.recognition
        outcome = await run_in_threadpool(service.recognize_record, user_id, body.record_id, access.account)
    return JSONResponse(recognition_view(user_id, outcome).model_dump(mode="json"))


routes = [
    Route("/users/{user_id}/vocabulary", get_vocabulary, methods=["GET"]),
    Route("/users/{user_id}/recognize", recognize, methods=["POST"]),
]

operations = [
    Operation(
        "/users/{user_id}/vocabulary",
        "GET",
        "A person's vocabulary: labels of their active labelled captures (with `train` consent)",
        {200: VocabularyView},
        path_params=("user_id",),
        error_statuses=(400, 401, 403, 404, 503),
    ),
    Operation(
        "/users/{user_id}/recognize",
        "POST",
        "Recognize a recorded capture with the person's own recognizer (recorded as gesture.recognized)",
        {200: RecognitionView},
        request_model=RecognizeInput,
        path_params=("user_id",),
        error_statuses=(400, 401, 403, 404, 409, 410, 503),
    ),
]
