"""Accounts an attacker cannot learn about or lock out: registration and login answer the
same for known and unknown addresses, with the same work; passwords people commonly use
(or their own e-mail, or control characters) are refused; failed logins from elsewhere
never lock the owner out; deleting an account releases its tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.auth import security
from app.auth.models import Role, User
from app.bookings.models import Booking, BookingStatus
from app.notifications.models import MessageKind, OutboxMessage
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, REGISTER, Headers, book, next_weekday


async def _outbox(db: TestDatabase) -> list[OutboxMessage]:
    async with db.database.reader() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_registering_a_known_address_answers_as_a_new_one(
    client: httpx.AsyncClient, db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same status, same body, the same bcrypt work and one e-mail either way: the
    stranger learns nothing, the owner learns someone tried."""
    hashes: list[int] = []
    real_hash = security.hash_password

    async def counted(password: str, rounds: int = 12) -> str:
        hashes.append(rounds)
        return await real_hash(password, rounds)

    monkeypatch.setattr(security, "hash_password", counted)
    first = await client.post("/auth/register", json=REGISTER)
    again = await client.post("/users/register", json={**REGISTER, "password": "other horse 7"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert hashes == [4, 4]  # one hash each (BCRYPT_ROUNDS is 4 in tests)
    sent = [(m.kind, m.recipient) for m in await _outbox(db)]
    assert sent == [
        (MessageKind.account_welcome, "ada@example.com"),
        (MessageKind.account_exists, "ada@example.com"),
    ]
    welcome, exists = await _outbox(db)
    assert "is ready" in (welcome.body_text or "")
    assert "already has one" in (exists.body_text or "") and "Nothing was changed" in (
        exists.body_text or ""
    )
    # The account kept its first password.
    kept = await client.post("/auth/login", json={"email": REGISTER["email"],
                                                  "password": REGISTER["password"]})  # fmt: skip
    assert kept.status_code == 200
    refused = await client.post("/auth/login", json={"email": REGISTER["email"],
                                                     "password": "other horse 7"})  # fmt: skip
    assert refused.status_code == 401


async def test_the_owner_gets_one_note_an_hour_however_often_someone_registers(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    await client.post("/auth/register", json=REGISTER)
    for attempt in range(5):
        again = await client.post("/auth/register", json={**REGISTER, "name": f"X{attempt}"})
        assert again.status_code == 202
    kinds = [m.kind for m in await _outbox(db)]
    assert kinds == [MessageKind.account_welcome, MessageKind.account_exists]


async def test_login_does_the_same_work_for_unknown_and_known_addresses(
    client: httpx.AsyncClient, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real_verify = security.verify_password

    async def counted(password: str, hashed: str) -> bool:
        checks.append(hashed[:7])  # "$2b$04$": the cost checked against
        return await real_verify(password, hashed)

    monkeypatch.setattr(security, "verify_password", counted)
    await make_user(Role.customer, email="known@example.com", password="a-known-password")
    unknown = await client.post("/auth/login", json={"email": "nobody@example.com",
                                                     "password": "a-known-password"})  # fmt: skip
    wrong = await client.post("/auth/login", json={"email": "known@example.com",
                                                   "password": "a-wrong-password"})  # fmt: skip
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert checks == ["$2b$04$", "$2b$04$"]


async def test_a_login_rehashes_a_password_made_at_another_cost(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    """After BCRYPT_ROUNDS changes, each account's hash moves to the new cost at its next
    login, so a login costs the same for every account (and for an unknown one)."""
    old_hash = await security.hash_password("an-old-password", 5)
    async with db.database.writer() as session, session.begin():
        session.add(
            User(email="old@example.com", name="Old", role=Role.customer, hashed_password=old_hash)
        )
    signed_in = await client.post("/auth/login", json={"email": "old@example.com",
                                                       "password": "an-old-password"})  # fmt: skip
    assert signed_in.status_code == 200
    async with db.database.reader() as session:
        stored = await session.scalar(select(User.hashed_password).where(
            User.email == "old@example.com"))  # fmt: skip
    assert stored is not None and security.hash_cost(stored) == 4
    assert await security.verify_password("an-old-password", stored)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1", "most commonly used"),
        ("Qwerty123", "most commonly used"),
        ("ada@example.com", "your e-mail address"),
        ("Ada@Example.com", "your e-mail address"),
        ("ada", "at least 8"),
        ("\x00" * 8, "control characters"),
        ("good pass\x00word", "control characters"),
        ("line\nbreak pass", "control characters"),
    ],
)
async def test_weak_passwords_are_refused_with_the_reason(
    client: httpx.AsyncClient, db: TestDatabase, password: str, reason: str
) -> None:
    refused = await client.post("/auth/register", json={**REGISTER, "password": password})
    assert refused.status_code == 422, refused.text
    assert reason in refused.json()["detail"]
    assert await _outbox(db) == []  # nothing was made or sent


async def test_changing_to_a_common_password_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    _, headers = await make_user(Role.customer, password="the-current-one")
    change = {"current_password": "the-current-one", "password": "iloveyou"}
    refused = await client.patch("/users/me", json=change, headers=headers)
    assert refused.status_code == 422
    assert "most commonly used" in refused.json()["detail"]


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=recording(app), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_login": "20/year", "rate_limit_login_account": "3/year"}


@pytest.fixture
async def attackers(app: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [_from(app, f"203.0.113.{n}") for n in range(1, 6)]
    yield clients
    for one in clients:
        await one.aclose()


async def test_failures_from_elsewhere_never_lock_the_owner_out(
    app: FastAPI, make_user: UserFactory, attackers: list[httpx.AsyncClient]
) -> None:
    await make_user(Role.customer, email="owner@example.com", password="the owner's own")
    guess = {"email": "owner@example.com", "password": "a wrong guess"}
    answers = [
        (await attacker.post("/auth/login", json=guess)).status_code
        for attacker in attackers
        for _ in range(4)
    ]
    # Each address gets 3 failures for this e-mail, then 429, and only for itself.
    assert answers == ([401] * 3 + [429]) * len(attackers)
    async with _from(app, "198.51.100.7") as owner:
        signed_in = await owner.post("/auth/login", json={**guess, "password": "the owner's own"})
    assert signed_in.status_code == 200, signed_in.text


async def test_successful_logins_use_up_nothing(app: FastAPI, make_user: UserFactory) -> None:
    """Staff signing in from one shared address: 30 good logins, then a wrong one is a 401
    (not a 429)."""
    await make_user(Role.staff, email="host@example.com", password="host password 1")
    good = {"email": "host@example.com", "password": "host password 1"}
    async with _from(app, "192.0.2.10") as till:
        statuses = {(await till.post("/auth/login", json=good)).status_code for _ in range(30)}
        wrong = await till.post("/auth/login", json={**good, "password": "nope nope"})
    assert statuses == {200}
    assert wrong.status_code == 401


async def test_deleting_an_account_cancels_its_bookings_to_come_and_tells_the_guest(
    client: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory, admin: Headers
) -> None:
    user, headers = await make_user(Role.customer, email="leaving@example.com")
    day = next_weekday(FRIDAY)
    booking = await book(client, headers, day, "19:00", 4, table_id=5)
    assert booking.status_code == 201
    gone = await client.delete(f"/users/{user.id}", headers=admin)
    assert gone.status_code == 204
    async with db.database.reader() as session:
        row = await session.get(Booking, booking.json()["id"])
    assert row is not None and row.status == BookingStatus.cancelled
    notices = [m for m in await _outbox(db) if m.kind == MessageKind.booking_cancelled]
    assert [m.recipient for m in notices] == ["leaving@example.com"]
    # The table is free again at that time.
    params: dict[str, str | int] = {"date": day.isoformat(), "time": "19:00", "party_size": 4}
    check = await client.get("/bookings/availability", params=params)
    assert 5 in [t["id"] for t in check.json()["available_tables"]]
