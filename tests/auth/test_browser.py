"""Browser sign-in (app/auth/browser.py): the refresh token only in an HttpOnly,
SameSite=Strict cookie scoped to /auth/session; rotation and reuse detection as for
API clients; requests without the same-site header refused. The live streams' cookie:
staff only, short-lived, scoped to /api/, and opening nothing but the streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest

from app.auth import security
from app.auth.models import Role
from app.config import Settings
from tests.conftest import UserFactory

WEB = {"X-Requested-With": "restaurant-web"}
LOGIN = {"email": "web@example.com", "password": "password123"}


def _cookie(
    response: httpx.Response, name: str = "restaurant_refresh"
) -> tuple[str, dict[str, str | bool]]:
    """The cookie `name` a response sets (exactly once): its value and attributes."""
    jars = []
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        jars += [jar] if name in jar else []
    assert len(jars) == 1, response.headers.get_list("set-cookie")
    morsel = jars[0][name]
    attributes = {key: morsel[key] for key in ("path", "httponly", "samesite", "secure",
                                                 "max-age")}  # fmt: skip
    return morsel.value, attributes


def _with(token: str) -> dict[str, str]:
    return {**WEB, "Cookie": f"restaurant_refresh={token}"}


async def test_sign_in_keeps_the_refresh_token_out_of_the_page(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=LOGIN["email"], password=LOGIN["password"])
    signed_in = await client.post("/auth/session", json=LOGIN, headers=WEB)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh token
    assert signed_in.headers["cache-control"] == "no-store"
    token, attributes = _cookie(signed_in)
    assert token and token not in signed_in.text
    assert attributes["path"] == "/auth/session"
    assert attributes["httponly"] is True and str(attributes["samesite"]).lower() == "strict"
    assert attributes["secure"] is True  # outside development
    assert int(str(attributes["max-age"])) == 14 * 24 * 3600
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == LOGIN["email"]


async def test_refresh_rotates_the_cookie_and_a_reused_one_ends_the_sign_in(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=LOGIN["email"], password=LOGIN["password"])
    first, _ = _cookie(await client.post("/auth/session", json=LOGIN, headers=WEB))
    renewed = await client.post("/auth/session/refresh", headers=_with(first))
    assert renewed.status_code == 200, renewed.text
    second, _ = _cookie(renewed)
    assert second != first and renewed.json()["access_token"]
    stolen = await client.post("/auth/session/refresh", headers=_with(first))  # replayed
    assert stolen.status_code == 401
    # The whole sign-in is revoked: the newer cookie no longer works either.
    assert (await client.post("/auth/session/refresh", headers=_with(second))).status_code == 401
    nothing = await client.post("/auth/session/refresh", headers=WEB)
    assert nothing.status_code == 401 and "no refresh cookie" in nothing.json()["detail"]


async def test_sign_out_revokes_and_clears_the_cookie(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=LOGIN["email"], password=LOGIN["password"])
    token, _ = _cookie(await client.post("/auth/session", json=LOGIN, headers=WEB))
    out = await client.delete("/auth/session", headers=_with(token))
    assert out.status_code == 204
    cleared, attributes = _cookie(out)
    assert cleared == "" and int(str(attributes["max-age"])) == 0
    # The live streams' cookie goes too, so a shared screen stops reconnecting.
    stream, stream_attributes = _cookie(out, "restaurant_stream")
    assert stream == "" and int(str(stream_attributes["max-age"])) == 0
    assert stream_attributes["path"] == "/api/"
    assert (await client.post("/auth/session/refresh", headers=_with(token))).status_code == 401
    again = await client.delete("/auth/session", headers=_with(token))  # already signed out
    assert again.status_code == 204


async def test_requests_another_site_could_forge_are_refused(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    """A form or link on another site cannot add the header (it would need a CORS
    preflight): signing in, refreshing and signing out without it are 403s that change
    nothing."""
    await make_user(Role.customer, email=LOGIN["email"], password=LOGIN["password"])
    token, _ = _cookie(await client.post("/auth/session", json=LOGIN, headers=WEB))
    cookie = {"Cookie": f"restaurant_refresh={token}"}
    for response in (
        await client.post("/auth/session", json=LOGIN),
        await client.post("/auth/session/refresh", headers=cookie),
        await client.delete("/auth/session", headers=cookie),
        await client.post("/auth/session/refresh",
                          headers={**cookie, "X-Requested-With": "XMLHttpRequest"}),
    ):  # fmt: skip
        assert response.status_code == 403, response.text
        assert "X-Requested-With" in response.json()["detail"]
        assert "set-cookie" not in response.headers
    assert (await client.post("/auth/session/refresh", headers=_with(token))).status_code == 200


async def test_wrong_password_is_401_and_sets_no_cookie(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user(Role.customer, email=LOGIN["email"], password=LOGIN["password"])
    wrong = await client.post("/auth/session", json={**LOGIN, "password": "nope-nope"},
                              headers=WEB)  # fmt: skip
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers


# -- The live streams' cookie ------------------------------------------------------------


async def test_staff_get_a_short_lived_stream_cookie_for_the_api_paths_only(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Settings
) -> None:
    user, staff = await make_user(Role.staff)
    answer = await client.post("/auth/session/stream", headers={**staff, **WEB})
    assert answer.status_code == 204, answer.text
    assert answer.content == b"" and answer.headers["cache-control"] == "no-store"
    token, attributes = _cookie(answer, "restaurant_stream")
    assert attributes["path"] == "/api/"
    assert attributes["httponly"] is True and str(attributes["samesite"]).lower() == "strict"
    assert attributes["secure"] is True  # outside development
    assert int(str(attributes["max-age"])) == 600
    assert len(answer.headers.get_list("set-cookie")) == 1  # the sign-in's is left alone
    claims = security.decode_token(token, secret=settings.secret_key, expected_type="stream")
    assert claims.sub == user.id
    assert claims.exp - datetime.now(UTC) <= timedelta(minutes=10)
    assert claims.exp - datetime.now(UTC) > timedelta(minutes=9)
    with pytest.raises(security.InvalidToken):  # never an access token
        security.decode_access_token(token, secret=settings.secret_key)
    _, admin = await make_user(Role.admin)
    assert (await client.post("/auth/session/stream", headers={**admin, **WEB})).status_code == 204


async def test_a_stream_cookie_is_refused_to_customers_strangers_and_other_sites(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    _, customer = await make_user(Role.customer)
    _, staff = await make_user(Role.staff)
    _, gone = await make_user(Role.staff, active=False)
    refusals = [
        (await client.post("/auth/session/stream", headers={**customer, **WEB}), 403),
        (await client.post("/auth/session/stream", headers=WEB), 401),
        (await client.post("/auth/session/stream", headers={**gone, **WEB}), 401),
        (await client.post("/auth/session/stream",
                           headers={"Authorization": "Bearer forged", **WEB}), 401),
        (await client.post("/auth/session/stream", headers=staff), 403),  # no header
        (await client.post("/auth/session/stream",
                           headers={**staff, "X-Requested-With": "XMLHttpRequest"}), 403),
    ]  # fmt: skip
    for response, status in refusals:
        assert response.status_code == status, response.text
        assert "set-cookie" not in response.headers
    assert "X-Requested-With" in refusals[-1][0].json()["detail"]
    assert "Staff" in refusals[0][0].json()["detail"]


async def test_the_stream_cookie_opens_no_other_route(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    """Only the live streams read the cookie: bearer-only routes given only the cookie
    answer 401 as if nothing were sent, and the stream token is no bearer token."""
    _, admin = await make_user(Role.admin)
    token, _ = _cookie(
        await client.post("/auth/session/stream", headers={**admin, **WEB}), "restaurant_stream"
    )
    cookie = {"Cookie": f"restaurant_stream={token}", **WEB}
    for method, path in (
        ("GET", "/api/tables"),
        ("GET", "/api/kitchen/orders"),
        ("GET", "/api/orders"),
        ("GET", "/users/me"),
        ("GET", "/api/reports/day"),
        ("POST", "/api/tables/1/clean"),
        ("POST", "/auth/session/stream"),
    ):
        response = await client.request(method, path, headers=cookie)
        assert response.status_code == 401, (path, response.text)
        as_bearer = await client.request(
            method, path, headers={"Authorization": f"Bearer {token}", **WEB}
        )
        assert as_bearer.status_code == 401, (path, as_bearer.text)
    assert (await client.get("/api/tables", headers=admin)).status_code == 200
