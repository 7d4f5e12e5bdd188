"""Password reset (app/auth/reset.py): an e-mailed single-use link that expires, the same
answer for every address, the new password under the registration rules, and every
other sign-in of the account ended."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from starlette.types import Message, Receive, Scope, Send

from app.auth.models import Role, User
from app.config import Settings
from app.links import Links
from app.notifications.models import MessageKind, OutboxMessage
from tests.answers import recording
from tests.conftest import TestDatabase, UserFactory

EMAIL = "lost@example.com"
OLD = "the old password 1"
NEW = "a brand new one 2"
CONFIRM = "/auth/password-reset/confirm"
BAD_LINK = "invalid, has expired or has been used already"


async def _outbox(db: TestDatabase) -> list[OutboxMessage]:
    async with db.database.reader() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _ask(client: httpx.AsyncClient, email: str = EMAIL) -> httpx.Response:
    response = await client.post("/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    return response


def _token_in(message: OutboxMessage) -> str:
    assert message.body_text is not None and message.body_html is not None
    found = re.search(r"/account/reset\?token=([\w.-]+)", message.body_text)
    assert found, message.body_text
    assert found.group(0) in message.body_html
    return found.group(1)


async def _login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/auth/login", json={"email": EMAIL, "password": password})


async def test_the_emailed_link_sets_a_new_password_once_and_ends_other_sign_ins(
    client: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=EMAIL, password=OLD)
    signed_in = await _login(client, OLD)
    assert signed_in.status_code == 200
    old_refresh = signed_in.json()["refresh_token"]

    await _ask(client, "Lost@Example.com")
    [message] = await _outbox(db)
    assert (message.kind, message.recipient) == (MessageKind.password_reset, EMAIL)
    assert message.subject == "Choose a new password for The Restaurant"
    assert message.body_text is not None
    assert "works once, for 30 minutes" in message.body_text
    assert "http://127.0.0.1:8000/account/reset?token=" in message.body_text
    token = _token_in(message)

    done = await client.post(CONFIRM, json={"token": token, "password": NEW})
    assert done.status_code == 204, done.text
    assert (await _login(client, NEW)).status_code == 200
    assert (await _login(client, OLD)).status_code == 401
    refreshed = await client.post("/auth/refresh", json={"refresh_token": old_refresh})
    assert refreshed.status_code == 401

    again = await client.post(CONFIRM, json={"token": token, "password": "yet another one 3"})
    assert again.status_code == 400
    assert BAD_LINK in again.json()["detail"]
    assert (await _login(client, NEW)).status_code == 200


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Settings
) -> None:
    user, _ = await make_user(Role.customer, email=EMAIL, password=OLD)
    made = datetime.now(UTC) - timedelta(minutes=settings.password_reset_minutes, seconds=5)
    expired = Links(settings).reset_token(user.id, user.hashed_password, now=made)
    fresh = Links(settings).reset_token(user.id, user.hashed_password)

    refused = await client.post(CONFIRM, json={"token": expired, "password": NEW})
    assert refused.status_code == 400
    assert BAD_LINK in refused.json()["detail"]
    assert (await _login(client, OLD)).status_code == 200
    # The same link made now still works: only its age was wrong.
    assert (await client.post(CONFIRM, json={"token": fresh, "password": NEW})).status_code == 204


async def test_every_bad_token_gets_the_same_answer(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Settings
) -> None:
    """Garbage, a token of another purpose, another key, an unknown or inactive account:
    one answer, which says nothing about the account."""
    user, _ = await make_user(Role.customer, email=EMAIL, password=OLD)
    inactive, _ = await make_user(Role.customer, password=OLD, active=False)
    links = Links(settings)
    other_key = Links(settings.model_copy(update={"secret_key": "another-secret-key-" * 3}))
    tokens = [
        "not-a-token",
        links.manage_token(1, None),
        other_key.reset_token(user.id, user.hashed_password),
        links.reset_token(999_999, user.hashed_password),
        links.reset_token(user.id, "$2b$04$another-hash"),
        links.reset_token(inactive.id, inactive.hashed_password),
    ]
    answers = [
        (await client.post(CONFIRM, json={"token": t, "password": NEW})).json() for t in tokens
    ]
    assert all(a == answers[0] for a in answers), answers
    assert BAD_LINK in answers[0]["detail"]
    assert (await _login(client, OLD)).status_code == 200


async def test_the_new_password_follows_the_registration_rules(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Settings
) -> None:
    user, _ = await make_user(Role.customer, email=EMAIL, password=OLD)
    token = Links(settings).reset_token(user.id, user.hashed_password)
    for weak, reason in [
        ("short", "at least 8 characters"),
        ("password123", "most commonly used"),
        (EMAIL, "must not be your e-mail address"),
        ("lost@example.com".upper(), "must not be your e-mail address"),
    ]:
        refused = await client.post(CONFIRM, json={"token": token, "password": weak})
        assert refused.status_code == 422, refused.text
        assert reason in refused.json()["detail"]
    assert (await _login(client, OLD)).status_code == 200
    # Refusals used nothing up: the link still works.
    assert (await client.post(CONFIRM, json={"token": token, "password": NEW})).status_code == 204


async def test_two_uses_of_one_link_at_once_exactly_one_wins(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Settings
) -> None:
    user, _ = await make_user(Role.customer, email=EMAIL, password=OLD)
    token = Links(settings).reset_token(user.id, user.hashed_password)
    passwords = [f"racing password {n}" for n in range(4)]
    answers = await asyncio.gather(
        *(client.post(CONFIRM, json={"token": token, "password": p}) for p in passwords)
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [204, 400, 400, 400], [a.text for a in answers]
    winner = passwords[[a.status_code for a in answers].index(204)]
    assert (await _login(client, winner)).status_code == 200
    for loser in (p for p in passwords if p != winner):
        assert (await _login(client, loser)).status_code == 401


async def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_email(
    client: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=EMAIL, password=OLD)
    await make_user(Role.customer, email="gone@example.com", password=OLD, active=False)

    def shape(response: httpx.Response) -> tuple[int, dict[str, Any], str]:
        body = response.json()
        return response.status_code, {**body, "email": "?"}, response.headers["content-type"]

    unknown = await _ask(client, "nobody@example.com")
    inactive = await _ask(client, "gone@example.com")
    assert await _outbox(db) == []
    known = await _ask(client, EMAIL)
    assert shape(unknown) == shape(inactive) == shape(known)
    assert [m.recipient for m in await _outbox(db)] == [EMAIL]


async def test_the_answer_is_sent_before_the_address_is_looked_up(
    app: FastAPI, db: TestDatabase, make_user: UserFactory
) -> None:
    """So it takes the same time for every address: nothing about the account, not
    even whether it exists, has been read when the client has its 202."""
    await make_user(Role.customer, email=EMAIL, password=OLD)
    events: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        events.append("users read" if "FROM users" in sql else "other statement")

    async def noting(scope: Scope, receive: Receive, send: Send) -> None:
        async def answered(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                events.append("answered")

        await app(scope, receive, answered)

    engine = db.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        transport = httpx.ASGITransport(app=recording(noting), client=("192.0.2.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for email in ("nobody@example.com", EMAIL):
                events.clear()
                await _ask(client, email)
                assert events[0] == "answered", (email, events)
                assert "users read" in events, (email, events)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert len(await _outbox(db)) == 1


async def test_one_email_per_address_every_few_minutes(
    app: FastAPI, client: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=EMAIL, password=OLD)
    start = datetime.now(UTC)
    app.state.clock = lambda: start
    for _ in range(3):
        await _ask(client)
    assert len(await _outbox(db)) == 1
    app.state.clock = lambda: start + timedelta(minutes=4)
    await _ask(client)
    assert len(await _outbox(db)) == 1
    app.state.clock = lambda: start + timedelta(minutes=5, seconds=1)
    await _ask(client)
    assert len(await _outbox(db)) == 2


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=recording(app), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def other(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _from(app, "198.51.100.20") as client:
        yield client


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_password_reset": "2/year"}])
async def test_requests_are_limited_per_address_and_a_malformed_one_uses_none(
    client: httpx.AsyncClient, other: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=EMAIL, password=OLD)
    for bad in ("not-an-address", "", "x" * 400 + "@example.com"):
        malformed = await client.post("/auth/password-reset", json={"email": bad})
        assert malformed.status_code == 422
    await _ask(client, "first@example.com")
    await _ask(client, "second@example.com")
    refused = await client.post("/auth/password-reset", json={"email": EMAIL})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert await _outbox(db) == []  # the refused request looked nothing up
    await _ask(other, EMAIL)  # another address is not held back
    assert len(await _outbox(db)) == 1


async def test_an_account_made_inactive_after_the_link_cannot_use_it(
    client: httpx.AsyncClient, db: TestDatabase, make_user: UserFactory, admin: dict[str, str]
) -> None:
    user, _ = await make_user(Role.customer, email=EMAIL, password=OLD)
    await _ask(client)
    [message] = await _outbox(db)
    deactivated = await client.patch(f"/users/{user.id}", json={"is_active": False}, headers=admin)
    assert deactivated.status_code == 200
    used = await client.post(CONFIRM, json={"token": _token_in(message), "password": NEW})
    assert used.status_code == 400
    async with db.database.reader() as session:
        stored = await session.scalar(select(User.hashed_password).where(User.id == user.id))
    assert stored == user.hashed_password
