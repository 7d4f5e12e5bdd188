"""The API's documentation: every route has a summary and a tag."""

from __future__ import annotations

import httpx


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("tags"), f"{method} {path} has no tag"
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200
