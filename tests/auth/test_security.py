"""Checking passwords and tokens (app/auth/security.py): bcrypt in worker threads and
outside any transaction, as long for an unknown e-mail as for a wrong password, and
verified access tokens remembered but still expiring."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth import security
from tests.conftest import UserFactory
from tests.factories import REGISTER, Headers, login_form, register


async def test_unknown_email_login_takes_as_long_as_wrong_password(
    client: AsyncClient,
    app: FastAPI,
) -> None:
    """Timing: both paths run one bcrypt check. Compare medians of a few runs each."""
    app.state.settings.bcrypt_rounds = 9
    await register(client)

    async def median(username: str) -> float:
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            await login_form(client, username, "wrong password")
            samples.append(time.perf_counter() - started)
        return sorted(samples)[2]

    await login_form(client, "warmup@example.com", "wrong password")  # builds the dummy hash
    known, unknown = await median("ada@example.com"), await median("ghost@example.com")
    assert unknown > known * 0.5, (known, unknown)


async def test_logins_in_flight_do_not_stall_other_requests(
    client: AsyncClient,
    app: FastAPI,
    make_user: UserFactory,
) -> None:
    """bcrypt runs in worker threads: health answers while 20 logins are being checked."""
    app.state.settings.bcrypt_rounds = 10
    await register(client)
    logins = [
        asyncio.create_task(login_form(client, "ada@example.com", REGISTER["password"]))
        for _ in range(20)
    ]
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    health = await client.get("/health")
    health_time = time.perf_counter() - started
    results = await asyncio.gather(*logins)
    assert health.status_code == 200
    assert all(r.status_code == 200 for r in results)
    total_login_time = max(0.0, time.perf_counter() - started)
    assert health_time < total_login_time / 4, (health_time, total_login_time)


async def test_logins_in_flight_do_not_hold_up_writes(
    client: AsyncClient, guest: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passwords are checked outside any transaction: while a login is checking (held here
    at the check), a write request goes through. On SQLite a login holding the write lock
    would block it; on PostgreSQL it would hold a pooled connection meanwhile."""
    await register(client)
    checking, release = asyncio.Event(), asyncio.Event()
    real_verify = security.verify_password

    async def held_verify(password: str, hashed: str) -> bool:
        checking.set()
        await release.wait()
        return await real_verify(password, hashed)

    monkeypatch.setattr(security, "verify_password", held_verify)
    login = asyncio.create_task(login_form(client, "ada@example.com", REGISTER["password"]))
    try:
        await asyncio.wait_for(checking.wait(), timeout=10)
        renamed = await asyncio.wait_for(
            client.patch("/users/me", json={"name": "Quick"}, headers=guest), timeout=10
        )
        assert renamed.status_code == 200
        assert not login.done()
    finally:
        release.set()
    assert (await login).status_code == 200


def test_verified_access_tokens_are_remembered_but_still_expire() -> None:
    secret = "s" * 40
    token, claims = security.encode_token(
        secret=secret, user_id=7, role="customer", token_type="access",
        lifetime=timedelta(minutes=5),
    )  # fmt: skip
    assert security.decode_access_token(token, secret=secret).sub == 7
    # The second use is answered from memory, and expiry is checked on every use.
    assert security.decode_access_token(token, secret=secret).sub == 7
    with pytest.raises(security.InvalidToken, match="expired"):
        security.decode_access_token(token, secret=secret, now=claims.exp)
    # Remembered per secret: the same token under another secret is checked again.
    with pytest.raises(security.InvalidToken, match="Invalid token"):
        security.decode_access_token(token, secret="t" * 40)
    # A tampered token is never taken from memory.
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(tampered, secret=secret)
    refresh, _ = security.encode_token(
        secret=secret, user_id=7, role="customer", token_type="refresh",
        lifetime=timedelta(minutes=5),
    )  # fmt: skip
    with pytest.raises(security.InvalidToken, match="access"):
        security.decode_access_token(refresh, secret=secret)
