"""The OpenAPI document tells the truth: every route has a summary and a tag, operation
ids read well in a generated client, and every status an operation answers with is
documented, with the body it really has."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.auth.models import Role
from app.deps import MAX_ID
from app.main import create_app
from tests.answers import RECEIVED
from tests.conftest import UserFactory, make_settings

# A live stream never ends; its refusals (401, 403, 422) are probed, its 200 is not.
ENDLESS = {("get", "/api/kitchen/stream"), ("get", "/api/floor/stream")}
MISSING_ID = str(MAX_ID - 7)
METHODS_WITH_BODY = {"post", "put", "patch"}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    ]


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_operation_ids_read_well(client: httpx.AsyncClient) -> None:
    """`bookings_create`, not `create_booking_bookings_post`: tag, underscore, name."""
    doc = await _document(client)
    ids = [operation["operationId"] for _, _, operation in _operations(doc)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for (method, path, operation), operation_id in zip(_operations(doc), ids, strict=True):
        assert re.fullmatch(r"[a-z]+_[a-z_]+", operation_id), operation_id
        assert operation_id.split("_", 1)[0] in operation["tags"][0], operation_id
        # FastAPI's default spells the path and method out: availability_bookings_availability_get
        assert "__" not in operation_id and len(operation_id) <= 30, operation_id
        assert not operation_id.endswith(f"_{path.strip('/').replace('/', '_')}_{method}")
    assert "bookings_availability" in ids and "bookings_create" in ids


async def test_every_422_documents_the_body_it_has(client: httpx.AsyncClient) -> None:
    """Any operation that takes input documents its 422 with ValidationErrorBody (what
    the error handler sends), POST /bookings included."""
    doc = await _document(client)
    schemas = doc["components"]["schemas"]
    assert set(schemas["ValidationErrorBody"]["properties"]) == {"detail", "errors"}
    assert "HTTPValidationError" not in schemas
    for method, path, operation in _operations(doc):
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        answers = operation["responses"]
        if takes_input:
            assert "422" in answers, f"{method} {path}"
        if "422" in answers:
            content = answers["422"]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ValidationErrorBody"}, path
    create = doc["paths"]["/bookings"]["post"]["responses"]
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ValidationErrorBody"
    )


def _url(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


async def _probe(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], value: str
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if method in METHODS_WITH_BODY:
        kwargs["json"] = {}
    return await client.request(method.upper(), _url(path, value), **kwargs)


async def test_every_answer_given_is_documented(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    """Each operation is called as nobody, a guest, staff and an admin, on an id that
    does not exist, with an empty body, and with a path value that is not a number: every
    status it answers with (401, 403, 404, 409, 422 ...) is in its documented responses,
    and every error is JSON with a `detail`."""
    doc = await _document(client)
    callers: dict[str, dict[str, str]] = {"nobody": {}}
    for role in (Role.customer, Role.staff, Role.admin):
        callers[role.value] = (await make_user(role))[1]
    seen: dict[int, int] = {}
    undocumented: list[str] = []
    for method, path, operation in _operations(doc):
        documented = set(operation["responses"])
        values = [MISSING_ID] + (["not-a-number"] if "{" in path else [])
        for who, headers in callers.items():
            if (method, path) in ENDLESS and who in {"staff", "admin"}:
                continue
            for value in values:
                response = await _probe(client, method, path, headers, value)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if str(response.status_code) not in documented:
                    undocumented.append(
                        f"{method.upper()} {path} as {who} ({value}): {response.status_code}"
                    )
                if response.status_code >= 400:
                    body = response.json()
                    assert isinstance(body.get("detail"), str), (path, body)
    assert not undocumented, "\n".join(undocumented)
    # The probes reached every kind of refusal they are meant to check.
    for status in (401, 403, 404, 422):
        assert seen.get(status), (status, seen)


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("tags"), f"{method} {path} has no tag"
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200


@pytest.mark.runs_last
def test_every_answer_the_suite_received_is_documented() -> None:
    """Every status any test received from an operation (a 409 from a race, a 429 from a
    limit, a 503 from an outage ...) is among that operation's documented responses. A
    500 is left out: it is never a designed answer, and the tests that receive one
    injected a fault on purpose to see it handled."""
    doc = create_app(make_settings("sqlite+aiosqlite:///unused.db")).openapi()
    documented = {
        (method.upper(), path): set(operation["responses"])
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }
    checked = {key: statuses for key, statuses in RECEIVED.items() if key in documented}
    assert checked, "nothing recorded: run it with the tests that call the API"
    undocumented = sorted(
        f"{method} {path}: {status}"
        for (method, path), statuses in checked.items()
        for status in statuses
        if status != 500 and str(status) not in documented[(method, path)]
    )
    assert not undocumented, "\n".join(undocumented)
