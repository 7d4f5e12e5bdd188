"""/health and /health/ready (app/health.py), with the database up and down."""

from __future__ import annotations

import httpx

from app.main import create_app
from tests.answers import recording
from tests.conftest import TestDatabase, make_settings


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
    transport = httpx.ASGITransport(app=recording(app))
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
