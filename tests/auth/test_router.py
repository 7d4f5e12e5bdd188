"""Registering, logging in (form and JSON), refresh tokens and logging out, the caller's
own account, and what a bad token gets (app/auth/router.py, /auth and /users/me)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import TEST_SECRET, UserFactory
from tests.factories import REGISTER, Headers, Json, login_form, register


@pytest.mark.parametrize("path", ["/auth/register", "/users/register"])
async def test_register_makes_an_account_without_showing_its_hash(
    client: AsyncClient, path: str
) -> None:
    body = await register(client, path)
    assert body["email"] == "ada@example.com"
    assert body["name"] == "Ada"
    assert body["role"] == "customer"
    assert body["is_active"] is True
    assert "hashed_password" not in body and "password" not in body
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


async def test_a_registered_email_in_other_case_makes_no_second_account(
    client: AsyncClient, admin: Headers
) -> None:
    await register(client)
    again = await client.post("/users/register", json={**REGISTER, "email": "ADA@example.COM"})
    assert again.status_code == 202  # the same answer as for a new address
    users = (await client.get("/users/", headers=admin)).json()["items"]
    assert [u["email"] for u in users].count("ada@example.com") == 1


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short", "at least 8"), ("é" * 37, "at most 72 bytes")],
)
async def test_password_length_rules(client: AsyncClient, password: str, fragment: str) -> None:
    response = await client.post("/auth/register", json={**REGISTER, "password": password})
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert (await login_form(client, REGISTER["email"], password)).status_code == 401


async def test_invalid_email_is_422(client: AsyncClient) -> None:
    response = await client.post("/auth/register", json={**REGISTER, "email": "not-an-email"})
    assert response.status_code == 422
    assert "email" in response.json()["detail"]


async def test_login_form_and_json_give_working_tokens(client: AsyncClient) -> None:
    await register(client)
    form = await login_form(client, "ada@example.com", REGISTER["password"])
    assert form.status_code == 200, form.text
    pair = form.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"

    for path in ("/users/login", "/auth/login"):
        js = await client.post(
            path, json={"email": "ADA@example.com", "password": REGISTER["password"]}
        )
        assert js.status_code == 200, path
        claims = jwt.decode(js.json()["access_token"], TEST_SECRET, algorithms=["HS256"])
        assert {"sub", "role", "type", "iat", "exp", "jti"} <= set(claims)
        assert claims["type"] == "access" and claims["role"] == "customer"


async def test_wrong_password_and_unknown_email_are_401(client: AsyncClient) -> None:
    await register(client)
    wrong = await login_form(client, "ada@example.com", "wrong password")
    unknown = await login_form(client, "nobody@example.com", "whatever1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Incorrect e-mail or password"
    for path in ("/users/login", "/auth/login"):
        json_wrong = await client.post(
            path, json={"email": "ada@example.com", "password": "nope-nope"}
        )
        assert json_wrong.status_code == 401, path


async def test_inactive_user_cannot_log_in_or_use_token(
    client: AsyncClient, make_user: UserFactory
) -> None:
    _user, headers = await make_user(Role.customer, email="idle@example.com", active=False)
    assert (await login_form(client, "idle@example.com", "password123")).status_code == 401
    response = await client.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_reuse_revokes_family(client: AsyncClient) -> None:
    await register(client)
    first = (await login_form(client, "ada@example.com", REGISTER["password"])).json()
    second = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second_pair = second.json()
    assert second_pair["refresh_token"] != first["refresh_token"]

    replay = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The replay revoked the family, so the legitimately rotated token is dead too.
    after = await client.post("/auth/refresh", json={"refresh_token": second_pair["refresh_token"]})
    assert after.status_code == 401


async def test_access_token_is_not_a_refresh_token(client: AsyncClient) -> None:
    await register(client)
    pair = (await login_form(client, "ada@example.com", REGISTER["password"])).json()
    response = await client.post("/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert response.status_code == 401
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {pair['refresh_token']}"})
    assert me.status_code == 401


async def test_logout_revokes_refresh_token(client: AsyncClient) -> None:
    await register(client)
    pair = (await login_form(client, "ada@example.com", REGISTER["password"])).json()
    out = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert out.status_code == 204
    again = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


def _forge(payload: Json, secret: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=alg)


async def test_bad_tokens_get_401_with_www_authenticate(
    client: AsyncClient, make_user: UserFactory
) -> None:
    user, _ = await make_user(Role.admin)
    now = datetime.now(UTC)
    base = {
        "sub": str(user.id),
        "role": "admin",
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j1",
    }
    _header, payload, _sig = _forge(base).split(".")
    unsigned_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    tokens = {
        "bad signature": _forge(base, secret="another-secret-of-sufficient-length-123456"),
        "alg none": f"{unsigned_header}.{payload}.",
        "expired": _forge(
            {**base, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}
        ),
        "wrong type": _forge({**base, "type": "refresh"}),
        "deleted user": _forge({**base, "sub": "999999"}),
        "garbage": "not.a.token",
    }
    for label, token in tokens.items():
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, label
        assert response.headers.get("www-authenticate") == "Bearer", label
    missing = await client.get("/users/me")
    assert missing.status_code == 401


async def test_deactivated_user_token_stops_working(
    client: AsyncClient, make_user: UserFactory, admin: Headers
) -> None:
    user, headers = await make_user(Role.customer)
    assert (await client.get("/users/me", headers=headers)).status_code == 200
    patch = await client.patch(f"/users/{user.id}", json={"is_active": False}, headers=admin)
    assert patch.status_code == 200
    assert (await client.get("/users/me", headers=headers)).status_code == 401


async def test_patch_me_name_and_password(client: AsyncClient) -> None:
    await register(client)
    pair = (await login_form(client, "ada@example.com", REGISTER["password"])).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    renamed = await client.patch("/users/me", json={"name": "Ada L."}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Ada L."

    no_current = await client.patch(
        "/users/me", json={"password": "new password 1"}, headers=headers
    )
    assert no_current.status_code == 422
    wrong = await client.patch(
        "/users/me",
        json={"password": "new password 1", "current_password": "wrong-one"},
        headers=headers,
    )
    assert wrong.status_code == 422
    ok = await client.patch(
        "/users/me",
        json={"password": "new password 1", "current_password": REGISTER["password"]},
        headers=headers,
    )
    assert ok.status_code == 200
    assert (await login_form(client, "ada@example.com", REGISTER["password"])).status_code == 401
    assert (await login_form(client, "ada@example.com", "new password 1")).status_code == 200


async def test_register_race_for_one_email_gives_one_account(
    client: AsyncClient, admin: Headers
) -> None:
    responses = await asyncio.gather(*(
        client.post("/auth/register", json={**REGISTER, "name": f"Ada {i}"}) for i in range(5)
    ))  # fmt: skip
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 5, statuses
    users = (await client.get("/users/", headers=admin)).json()["items"]
    assert [u["email"] for u in users].count("ada@example.com") == 1
    mail = (await client.get("/admin/outbox", headers=admin)).json()["items"]
    kinds = [m["kind"] for m in mail if m["recipient"] == "ada@example.com"]
    assert kinds.count("account_welcome") == 1
    assert 1 <= kinds.count("account_exists") <= 4  # at most one an hour, bar a race
