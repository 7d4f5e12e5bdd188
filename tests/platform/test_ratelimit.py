"""Rate limits (app/ratelimit.py): per user, per address, per e-mail, and shared through Redis."""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.auth.models import Role
from app.config import Settings
from app.main import create_app
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory, make_settings
from tests.factories import FRIDAY, Headers, Json, Params, book, booking_body, next_weekday

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
    for at in ("12:00", "14:00", "16:00"):  # not overlapping (fair use)
        assert (await book(client, first, day, at, 2)).status_code == 201
    _assert_429(await book(client, first, day, "18:00", 2))
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


def _invalid_bookings() -> list[Json]:
    """Three ways to be refused with a 422: a malformed body, a date in the past, a party
    larger than any table takes."""
    day = next_weekday(FRIDAY)
    return [
        {"date": day.isoformat(), "time": "19:00", "party_size": "two"},
        booking_body(date.today() - timedelta(days=2), "19:00", 2),
        booking_body(day, "19:00", 150),
    ]


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_refused_bookings_use_up_none_of_the_allowance(
    client: httpx.AsyncClient, guest: Headers
) -> None:
    """Three 422s of each kind, then still the three bookings the limit allows."""
    for body in _invalid_bookings() * 3:
        refused = await client.post("/bookings", json=body, headers=guest)
        assert refused.status_code == 422, refused.text
    day = next_weekday(FRIDAY)
    for at in ("12:00", "14:00", "16:00"):  # not overlapping (fair use)
        assert (await book(client, guest, day, at, 2)).status_code == 201
    _assert_429(await book(client, guest, day, "18:00", 2))


@pytest.mark.parametrize("settings_overrides", [LOW_LIMITS])
async def test_refused_registrations_use_up_none_of_the_allowance(
    client: httpx.AsyncClient,
) -> None:
    refused = [
        {"email": "weak@example.com", "password": "password123", "name": "W"},
        {"email": "weak@example.com", "password": "weak@example.com", "name": "W"},
        {"email": "not-an-address", "password": "correct-horse-9", "name": "W"},
        {"email": "noname@example.com", "password": "correct-horse-9"},
    ]
    for body in refused * 2:
        assert (await client.post("/auth/register", json=body)).status_code == 422
    for i in range(2):
        body = {"email": f"new{i}@example.com", "password": "correct-horse-9", "name": "N"}
        assert (await client.post("/users/register", json=body)).status_code == 202
    body = {"email": "third@example.com", "password": "correct-horse-9", "name": "N"}
    _assert_429(await client.post("/auth/register", json=body))


@pytest.mark.parametrize("settings_overrides", [{**LOW_LIMITS, "rate_limit_rejected": "4/year"}])
async def test_a_flood_of_invalid_requests_is_held_back_per_address(
    app: FastAPI, client: httpx.AsyncClient, guest: Headers
) -> None:
    """422s count against RATE_LIMIT_REJECTED for their address: once it is spent, the
    booking and registration routes refuse that address before any work; another
    address is not held back."""
    past, too_large = _invalid_bookings()[1:]
    for body in (past, too_large):
        assert (await client.post("/bookings", json=body, headers=guest)).status_code == 422
    weak = {"email": "weak@example.com", "password": "password123", "name": "W"}
    for _ in range(2):
        assert (await client.post("/auth/register", json=weak)).status_code == 422
    day = next_weekday(FRIDAY)
    _assert_429(await book(client, guest, day, "12:00", 2))
    good = {"email": "good@example.com", "password": "correct-horse-9", "name": "G"}
    _assert_429(await client.post("/auth/register", json=good))
    _assert_429(await client.post("/auth/password-reset", json={"email": "a@example.com"}))
    transport = httpx.ASGITransport(app=recording(app), client=("10.7.7.7", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        assert (await book(other, guest, day, "12:00", 2)).status_code == 201
        assert (await other.post("/auth/register", json=good)).status_code == 202


# The shipped limits, not the tests' generous ones.
DEFAULT_LIMITS = {
    name: field.default
    for name, field in Settings.model_fields.items()
    if name.startswith("rate_limit_") and name not in {"rate_limit_storage_url",
                                                       "rate_limit_key_prefix"}
}  # fmt: skip


@pytest.mark.parametrize("settings_overrides", [DEFAULT_LIMITS])
async def test_the_defaults_let_twenty_staff_behind_one_address_work_a_service(
    app: FastAPI, make_user: UserFactory
) -> None:
    """The start of service at a restaurant whose staff share one address: twenty sign
    in, each mistyping their password once, check availability for phone calls (eight
    checks each) and book one; nothing is refused."""
    staff = []
    for n in range(20):
        user, _ = await make_user(Role.staff, password=f"staff password {n}")
        staff.append((user.email, f"staff password {n}"))
    day = next_weekday(FRIDAY)
    params: Params = {"date": day.isoformat(), "party_size": 2}
    times = [f"{hour}:{minute}" for hour in (12, 13, 18, 19, 20) for minute in ("00", "30")]
    statuses: list[int] = []
    bearers: list[Headers] = []
    transport = httpx.ASGITransport(app=recording(app), client=("203.0.113.50", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as till:
        for email, password in staff:
            typo = await till.post("/auth/login", json={"email": email, "password": "typo" * 3})
            assert typo.status_code == 401
            signed_in = await till.post("/auth/login", json={"email": email, "password": password})
            statuses.append(signed_in.status_code)
            if signed_in.status_code == 200:
                bearers.append({"Authorization": f"Bearer {signed_in.json()['access_token']}"})
        for n, bearer in enumerate(bearers):
            for _ in range(8):
                statuses.append(
                    (await till.get("/bookings/availability", params=params)).status_code
                )
            booking = await book(till, bearer, day + timedelta(weeks=n // 10), times[n % 10], 2)
            statuses.append(booking.status_code)
    assert 429 not in statuses
    assert set(statuses) == {200, 201}
    assert len(bearers) == 20


async def test_refused_bookings_are_given_back_in_redis_too(
    db: TestDatabase, make_user: UserFactory
) -> None:
    """Giving back takes a negative hit, which Redis storage counts as memory does."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set")
    settings = make_settings(
        db.url, rate_limit_storage_url=redis_url, rate_limit_key_prefix=uuid.uuid4().hex,
        rate_limit_booking="3/year",
    )  # fmt: skip
    _, guest = await make_user(Role.customer)
    day = next_weekday(FRIDAY)
    application = create_app(settings, database=db.database)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=recording(application), client=("127.0.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            past = _invalid_bookings()[1]
            for _ in range(4):
                refused = await client.post("/bookings", json=past, headers=guest)
                assert refused.status_code == 422
            for at in ("12:00", "14:00", "16:00"):  # not overlapping (fair use)
                assert (await book(client, guest, day, at, 2)).status_code == 201
            _assert_429(await book(client, guest, day, "18:00", 2))
        assert application.state.limiter.storage_status == "up"
