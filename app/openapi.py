"""The OpenAPI document as clients need it: readable operation ids, and every answer an
operation can give documented with the body it really has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.errors import ErrorBody, ValidationErrorBody

ERROR_BODY = "#/components/schemas/ErrorBody"
# Paths that answer without the database (everything else can be a 503 when it is down).
WITHOUT_DATABASE = frozenset({"/health"})
UNAVAILABLE = {
    "description": "The database is unavailable or every connection is busy; try again "
    "after `Retry-After` seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
UNREADABLE = {
    "description": "The body could not be read as JSON (not UTF-8, or nested too deep)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
TOO_LARGE = {
    "description": "The body is larger than the service accepts (MAX_BODY_BYTES)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
INVALID = {
    "description": "Invalid input: `detail` says what was wrong, `errors` where",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorBody"}}
    },
}


def operation_id(route: APIRoute) -> str:
    """`bookings_create`, `tables_merge`: the router's tag and the route's name, which a
    generated client turns into `bookingsCreate`."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


def _components(schema: dict[str, Any]) -> dict[str, Any]:
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, ValidationErrorBody):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    return components


def _as_json(answer: dict[str, Any]) -> None:
    content = answer.get("content", {})
    for media in [m for m in content if m != "application/json"]:
        if content[media].get("schema", {}).get("$ref") == ERROR_BODY:
            content.setdefault("application/json", content.pop(media))


def refine(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 422 is our ValidationErrorBody (FastAPI documents its own shape, which we do
    not send, and leaves a route's own 422 without a body); an operation with a body
    documents the 400 for one it cannot read and the 413 for one too large; every
    operation that needs the database documents the 503 it gives when it is away. An
    error's body is JSON even where the operation answers another type (FastAPI files a
    route's error models under the route's own media type: text/calendar)."""
    components = _components(schema)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, answer in answers.items():
                if status >= "400":
                    _as_json(answer)
            if "422" in answers:
                said = answers["422"].get("description")
                own = said if said and said != "Validation Error" else INVALID["description"]
                answers["422"] = {**INVALID, "description": own}
            if "requestBody" in operation:
                answers.setdefault("400", UNREADABLE)
                answers.setdefault("413", TOO_LARGE)
            if path not in WITHOUT_DATABASE:
                answers.setdefault("503", UNAVAILABLE)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refine(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
