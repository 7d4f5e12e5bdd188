from __future__ import annotations

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.main import create_app
from tests.conftest import TestDatabase, UserFactory, make_settings


async def test_health_and_ready_with_database_up(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["database"] == "up"


async def test_ready_is_503_when_database_is_down(db: TestDatabase) -> None:
    down_url = (
        "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
        if db.backend == "postgres"
        else "sqlite+aiosqlite:////nonexistent-dir/none.db"
    )
    app = create_app(make_settings(down_url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["database"] == "down"
        # A route that needs the database answers 503 without leaking driver text.
        login = await client.post("/users/login", json={"email": "a@example.com", "password": "x"})
        assert login.status_code == 503
        assert "asyncpg" not in login.text and "sqlite" not in login.text.lower()
    await app.state.db.dispose()


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_failed_commit_is_an_error_not_a_success(client: httpx.AsyncClient) -> None:
    """The commit runs before the response: if it fails, the client must not see 201."""

    def refuse(_session: Session) -> None:
        raise RuntimeError("commit refused by test")

    event.listen(Session, "before_commit", refuse)
    try:
        response = await client.post(
            "/auth/register",
            json={"email": "lost@example.com", "password": "password123", "name": "Lost"},
        )
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "Internal server error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError" not in response.text and "Traceback" not in response.text
    retry = await client.post(
        "/auth/register",
        json={"email": "lost@example.com", "password": "password123", "name": "Lost"},
    )
    assert retry.status_code == 201  # nothing was left behind by the failed attempt


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("tags"), f"{method} {path} has no tag"
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200


async def test_ids_beyond_32_bits_are_refused_cleanly(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    _, headers = await make_user(Role.staff)
    huge = 99_999_999_999
    for path in (f"/api/tables/{huge}", f"/api/orders/{huge}", f"/bookings/{huge}"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert "less than or equal to 2147483647" in response.json()["detail"]
    body = {"date": "2030-01-04", "time": "19:00", "party_size": 2, "table_id": huge}
    assert (await client.post("/bookings", json=body, headers=headers)).status_code == 422
