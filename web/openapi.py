"""The OpenAPI description, generated from the pydantic models each route declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

import a3cp
from a3cp.schemas import ErrorResponse, RecordId, SafeId


@dataclass(frozen=True)
class Operation:
    """What one route accepts and answers, for the OpenAPI document."""

    path: str
    method: str
    summary: str
    responses: dict[int, type[BaseModel]]
    request_model: type[BaseModel] | None = None
    request_content_type: str = "application/json"
    request_schema: dict[str, Any] | None = None
    # Multipart parts sent as JSON objects, each described by its model.
    json_parts: tuple[tuple[str, type[BaseModel]], ...] = ()
    path_params: tuple[str, ...] = ()
    header_params: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects with "in": "header"
    error_statuses: tuple[int, ...] = field(default=(400, 404))
    # Answers that are not JSON models: status -> (media type, description); the body is binary.
    binary_responses: dict[int, tuple[str, str]] = field(default_factory=dict)


def _path_param_schema(name: str) -> dict[str, Any]:
    """A path id as the routes check it: a record_id is a UUIDv4, every other id a safe path segment."""
    return TypeAdapter(RecordId if name == "record_id" else SafeId).json_schema()


def build_openapi(operations: list[Operation]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorResponse}
    for op in operations:
        models.update(op.responses.values())
        if op.request_model is not None:
            models.add(op.request_model)
        models.update(model for _, model in op.json_parts)
    ordered = sorted(models, key=lambda m: m.__name__)
    keyed, defs = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    refs = {m: keyed[(m, "validation")] for m in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        responses: dict[str, Any] = {
            str(status): {
                "description": model.__name__,
                "content": {"application/json": {"schema": refs[model]}},
            }
            for status, model in op.responses.items()
        }
        for status, (media_type, description) in op.binary_responses.items():
            responses[str(status)] = {
                "description": description,
                "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        for status in op.error_statuses:
            responses.setdefault(
                str(status),
                {"description": "error", "content": {"application/json": {"schema": refs[ErrorResponse]}}},
            )
        entry: dict[str, Any] = {"summary": op.summary, "responses": responses}
        body_schema = refs[op.request_model] if op.request_model is not None else op.request_schema
        if body_schema is not None:
            if op.json_parts:  # first, in order; an object part's default encoding is application/json
                properties = {name: refs[model] for name, model in op.json_parts}
                properties.update(body_schema.get("properties", {}))
                body_schema = {**body_schema, "properties": properties}
            entry["requestBody"] = {
                "required": True,
                "content": {op.request_content_type: {"schema": body_schema}},
            }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": _path_param_schema(name)}
            for name in op.path_params
        ]
        if parameters or op.header_params:
            entry["parameters"] = parameters + list(op.header_params)
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "A3CP gesture capture service", "version": a3cp.__version__},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {})},
    }
