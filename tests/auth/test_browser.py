"""Browser sign-in (app/auth/browser.py): the refresh token only in an HttpOnly,
SameSite=Strict cookie scoped to /auth/session; rotation and reuse detection as for
API clients; requests without the same-site header refused."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx

from app.auth.models import Role
from tests.conftest import UserFactory

WEB = {"X-Requested-With": "restaurant-web"}
LOGIN = {"email": "web@example.com", "password": "password123"}


def _cookie(response: httpx.Response) -> tuple[str, dict[str, str | bool]]:
    """The refresh cookie a response sets: its value and attributes."""
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    morsel = jar["restaurant_refresh"]
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
