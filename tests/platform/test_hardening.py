"""The service's edges as an attacker and an operator meet them: security headers on every
answer, CORS that never pairs a wildcard with credentials, docs that production can turn
off, secret keys that must be hard to guess, no server banner, database errors logged
without their values, and metrics for the operator only."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from app import errors
from app.auth.models import Role, User
from app.config import Settings
from app.main import create_app
from tests.answers import recording
from tests.conftest import TEST_SECRET, TestDatabase, make_settings
from tests.factories import FRIDAY, Headers, book, next_weekday
from tests.platform.services import ServiceProcess


@pytest.mark.parametrize("path", ["/health", "/restaurant", "/docs", "/no/such/path"])
async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_hsts_when_the_request_came_over_tls(app: Any) -> None:
    transport = httpx.ASGITransport(app=recording(app))
    async with httpx.AsyncClient(transport=transport, base_url="https://example.com") as tls:
        response = await tls.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_token_answers_are_never_stored(client: httpx.AsyncClient, make_user: Any) -> None:
    await make_user(Role.customer, email="cached@example.com", password="not in a cache")
    tokens = await client.post("/auth/login", json={"email": "cached@example.com",
                                                    "password": "not in a cache"})  # fmt: skip
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"


async def test_static_docs_assets_may_be_cached(client: httpx.AsyncClient) -> None:
    asset = await client.get("/docs/static/swagger-ui.css")
    assert asset.status_code == 200 and "etag" in asset.headers


async def test_a_wildcard_origin_never_comes_with_credentials(db: TestDatabase) -> None:
    app = create_app(make_settings(db.url, cors_origins="*"), database=db.database)
    transport = httpx.ASGITransport(app=recording(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    named = create_app(make_settings(db.url, cors_origins="https://shop.example"),
                       database=db.database)  # fmt: skip
    transport = httpx.ASGITransport(app=recording(named))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        allowed = await client.get("/health", headers={"Origin": "https://shop.example"})
    assert allowed.headers["access-control-allow-credentials"] == "true"


async def test_the_api_reference_can_be_turned_off(db: TestDatabase) -> None:
    app = create_app(make_settings(db.url, api_docs=False), database=db.database)
    transport = httpx.ASGITransport(app=recording(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/static/swagger-ui.css"):
            assert (await client.get(path)).status_code == 404, path
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    "secret",
    ["x" * 40, "test-secret-key-" + "x" * 40, "qwertyuiopasdfghjklzxcvbnm1234567890", "short"],
)
def test_production_refuses_a_guessable_secret_key(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=secret)


def test_production_takes_a_random_secret_key() -> None:
    key = "k3Jq8vR1xZ_9mWc2TfLp7Hs0BnYd4GaEoUi6-QeVrNt5"
    assert Settings(_env_file=None, environment="production", secret_key=key).secret_key == key


async def test_no_server_banner(tmp_path: Path) -> None:
    """`restaurant serve` answers without naming its server (no database work needed)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'banner.db'}"
    service = ServiceProcess({"ENVIRONMENT": "test", "SECRET_KEY": TEST_SECRET,
                              "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})  # fmt: skip
    try:
        service.wait_ready("/health")
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{service.base}/health")
        assert response.status_code == 200
        assert "server" not in response.headers
    finally:
        service.stop()


async def test_database_errors_are_logged_without_their_values(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed insert (here a duplicate e-mail) is logged with its kind and constraint,
    never with the row's values: no e-mail, no password hash."""
    row = {"email": "private@example.com", "name": "Private", "role": "customer",
           "hashed_password": "$2b$04$SECRETHASHSECRETHASHSECRET", "is_active": True}  # fmt: skip
    async with db.database.engine.begin() as conn:
        await conn.execute(insert(User).values(**row, created_at=_now()))
    with pytest.raises(IntegrityError) as caught:
        async with db.database.engine.begin() as conn:
            await conn.execute(insert(User).values(**row, created_at=_now()))
    request = Request({"type": "http", "method": "POST", "path": "/users", "headers": [],
                       "query_string": b""})  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="app.errors"):
        answer = await errors._integrity_error(request, caught.value)
    assert answer.status_code == 409
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "integrity error on POST /users" in logged
    assert "private@example.com" not in logged and "SECRETHASH" not in logged
    assert "private@example.com" not in str(caught.value)  # parameters hidden at the engine


def _now() -> Any:
    from app.db.base import utcnow

    return utcnow()


async def test_metrics_for_the_operator(
    client: httpx.AsyncClient, make_user: Any, admin: Headers
) -> None:
    """Request counts and latency by route template, bookings made, the outbox's depth
    and oldest message, connections in use; served to this machine only."""
    _, guest = await make_user(Role.customer)
    assert (await book(client, guest, next_weekday(FRIDAY), "19:00", 2)).status_code == 201
    assert (await client.get("/bookings/12345", headers=guest)).status_code == 404
    text = (await client.get("/metrics")).text
    not_found = r'restaurant_http_requests_total\{method="GET",route="/bookings/\{booking_id\}"'
    assert re.search(not_found + r',status="404"\} [1-9]', text), text[:2000]
    bucket = 'restaurant_http_request_seconds_bucket{le="0.005",method="POST",route="/bookings"}'
    assert bucket in text
    made = re.search(r'restaurant_bookings_total\{event="made"\} ([0-9.]+)', text)
    assert made and float(made.group(1)) >= 1
    assert re.search(r"restaurant_outbox_depth [1-9]", text)  # the confirmation waits
    assert "restaurant_outbox_oldest_seconds " in text
    assert "restaurant_db_connections_in_use " in text
    assert "restaurant_db_up 1.0" in text


async def test_metrics_are_refused_to_other_machines(app: Any) -> None:
    transport = httpx.ASGITransport(app=recording(app), client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as outsider:
        assert (await outsider.get("/metrics")).status_code == 403


async def test_metrics_with_a_token_need_the_token(db: TestDatabase) -> None:
    app = create_app(make_settings(db.url, metrics_token="scrape-me-please"), database=db.database)
    transport = httpx.ASGITransport(app=recording(app), client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as scraper:
        assert (await scraper.get("/metrics")).status_code == 401
        wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await scraper.get("/metrics",
                                  headers={"Authorization": "Bearer scrape-me-please"})  # fmt: skip
        assert right.status_code == 200 and "restaurant_db_up" in right.text


async def _booking_events(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    found = re.findall(r'restaurant_bookings_total\{event="(\w+)"\} ([0-9.]+)', text)
    return {event: float(value) for event, value in found}


async def test_each_booking_event_is_counted_once(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    """A replayed Idempotency-Key answer is not a second booking; a cancellation counts."""
    _, guest = await make_user(Role.customer)
    before = await _booking_events(client)
    body = {"date": next_weekday(FRIDAY).isoformat(), "time": "19:00", "party_size": 2}
    headers = {**guest, "Idempotency-Key": "count-me-once"}
    first = await client.post("/bookings", json=body, headers=headers)
    again = await client.post("/bookings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert (
        await client.delete(f"/bookings/{first.json()['id']}", headers=guest)
    ).status_code == 204
    after = await _booking_events(client)
    assert after["made"] - before.get("made", 0) == 1
    assert after["cancelled"] - before.get("cancelled", 0) == 1
