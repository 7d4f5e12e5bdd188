"""Rate limits (app/ratelimit.py): per user, per address, per e-mail, and shared through Redis."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.auth.models import Role
from app.main import create_app
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, Headers, Params, book, next_weekday

LOW_LIMITS = {
    "rate_limit_register": "2/year",
    "rate_limit_booking": "3/year",
    "rate_limit_login": "3/year",
    "rate_limit_availability": "5/year",
}


def _assert_429(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "Rate limit" in response.json()["detail"]


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_bookings_are_limited_per_user(
    client: httpx.AsyncClient, make_user: UserFactory, staff: Headers
) -> None:
    _, first = await make_user(Role.customer)
    _, second = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    for at in ("12:00", "13:00", "14:00"):
        assert (await book(client, first, day, at, 2)).status_code == 201
    _assert_429(await book(client, first, day, "15:00", 2))
    assert (await book(client, second, day, "15:00", 2)).status_code == 201
    assert (await client.get("/bookings", headers=staff)).json()["total"] == 4


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_failed_logins_are_limited_per_address(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Three failures from one address, for any e-mails: its next attempt is a 429, on
    every login path. Another address is not held back by them."""
    for i in range(3):
        response = await client.post(
            "/auth/token", data={"username": f"u{i}@example.com", "password": "wrong-password"}
        )
        assert response.status_code == 401
    for path in ("/users/login", "/auth/login"):
        _assert_429(
            await client.post(
                path, json={"email": "other@example.com", "password": "wrong-password"}
            )
        )
    transport = httpx.ASGITransport(app=recording(app), client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        response = await other.post(
            "/auth/token", data={"username": "u0@example.com", "password": "guess-number"}
        )
    assert response.status_code == 401


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_availability_is_limited_per_address(app: FastAPI, client: httpx.AsyncClient) -> None:
    params: Params = {"date": next_weekday(FRIDAY).isoformat(), "party_size": 2}
    for _ in range(5):
        assert (await client.get("/bookings/availability", params=params)).status_code == 200
    _assert_429(await client.get("/bookings/availability", params=params))
    transport = httpx.ASGITransport(app=recording(app), client=("10.9.9.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        assert (await other.get("/bookings/availability", params=params)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_malformed_availability_checks_count_against_the_limit(
    client: httpx.AsyncClient,
) -> None:
    """The limit is taken before the query is validated: a client cannot probe for free
    with invalid requests."""
    bad: Params = {"date": "not-a-date", "party_size": 0}
    for _ in range(5):
        assert (await client.get("/bookings/availability", params=bad)).status_code == 422
    good: Params = {"date": next_weekday(FRIDAY).isoformat(), "party_size": 2}
    _assert_429(await client.get("/bookings/availability", params=good))


async def test_redis_storage_shares_the_limit_between_workers(db: TestDatabase) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set")
    settings = make_settings(
        db.url,
        rate_limit_storage_url=redis_url,
        rate_limit_key_prefix=uuid.uuid4().hex,
        rate_limit_availability="4/year",
    )
    workers = [create_app(settings, database=db.database) for _ in range(2)]
    params: Params = {"date": next_weekday(FRIDAY).isoformat(), "party_size": 2}
    statuses = []
    for i in range(6):
        transport = httpx.ASGITransport(app=recording(workers[i % 2]), client=("127.0.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            statuses.append((await c.get("/bookings/availability", params=params)).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_registration_is_limited_per_address(client: httpx.AsyncClient) -> None:
    for i, path in enumerate(("/auth/register", "/users/register")):
        body = {"email": f"new{i}@example.com", "password": "correct-horse-9", "name": "N"}
        assert (await client.post(path, json=body)).status_code == 202
    body = {"email": "third@example.com", "password": "correct-horse-9", "name": "N"}
    _assert_429(await client.post("/auth/register", json=body))
    login = await client.post(
        "/auth/token", data={"username": "third@example.com", "password": "correct-horse-9"}
    )
    assert login.status_code == 401  # the refused registration created nothing
