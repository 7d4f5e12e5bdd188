"""Managing users (/users, app/auth/router.py's users_router): admin only, the last admin
kept, and a deleted user's id never handed out again."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import FRIDAY, Headers, book, next_weekday

ADMIN_ROUTES = [
    ("GET", "/users/"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_role_matrix(
    client: AsyncClient, make_user: UserFactory, method: str, path: str
) -> None:
    target, _ = await make_user(Role.customer)
    url = path.format(id=target.id)
    body = {"name": "Renamed"} if method == "PATCH" else None
    assert (await client.request(method, url, json=body)).status_code == 401
    for role in (Role.customer, Role.staff):
        _, headers = await make_user(role)
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (role, response.text)
    _, admin = await make_user(Role.admin)
    response = await client.request(method, url, json=body, headers=admin)
    assert response.status_code in (200, 204), response.text


async def test_list_users_paginates_and_filters(
    client: AsyncClient, make_user: UserFactory, admin: Headers
) -> None:
    for _ in range(3):
        await make_user(Role.staff)
    for _ in range(4):
        await make_user(Role.customer)
    page = (await client.get("/users/", params={"limit": 3, "offset": 0}, headers=admin)).json()
    assert page["total"] == 8 and len(page["items"]) == 3
    rest = (await client.get("/users/", params={"limit": 10, "offset": 3}, headers=admin)).json()
    assert len(rest["items"]) == 5
    ids = [u["id"] for u in page["items"] + rest["items"]]
    assert len(set(ids)) == 8
    staff = (await client.get("/users/", params={"role": "staff"}, headers=admin)).json()
    assert staff["total"] == 3 and {u["role"] for u in staff["items"]} == {"staff"}
    bad = await client.get("/users/", params={"limit": 0}, headers=admin)
    assert bad.status_code == 422


async def test_admin_changes_role_and_unknown_user_is_404(
    client: AsyncClient, make_user: UserFactory, admin: Headers
) -> None:
    user, _ = await make_user(Role.customer)
    promoted = await client.patch(f"/users/{user.id}", json={"role": "staff"}, headers=admin)
    assert promoted.status_code == 200 and promoted.json()["role"] == "staff"
    assert (await client.get(f"/users/{user.id}", headers=admin)).json()["role"] == "staff"
    assert (await client.get("/users/424242", headers=admin)).status_code == 404
    bad_role = await client.patch(f"/users/{user.id}", json={"role": "owner"}, headers=admin)
    assert bad_role.status_code == 422


async def test_last_admin_cannot_be_demoted_deactivated_or_deleted(
    client: AsyncClient, make_user: UserFactory
) -> None:
    admin, headers = await make_user(Role.admin)
    for body in ({"role": "staff"}, {"is_active": False}):
        response = await client.patch(f"/users/{admin.id}", json=body, headers=headers)
        assert response.status_code == 409, body
        assert "last active admin" in response.json()["detail"]
    response = await client.delete(f"/users/{admin.id}", headers=headers)
    assert response.status_code == 409
    me = await client.get("/users/me", headers=headers)
    assert me.json()["role"] == "admin" and me.json()["is_active"] is True

    second, _ = await make_user(Role.admin)
    demoted = await client.patch(f"/users/{second.id}", json={"role": "customer"}, headers=headers)
    assert demoted.status_code == 200
    # Back to one admin again: still refused.
    assert (await client.delete(f"/users/{admin.id}", headers=headers)).status_code == 409


async def test_delete_user(client: AsyncClient, make_user: UserFactory, admin: Headers) -> None:
    user, user_headers = await make_user(Role.customer)
    assert (await client.delete(f"/users/{user.id}", headers=admin)).status_code == 204
    assert (await client.get(f"/users/{user.id}", headers=admin)).status_code == 404
    assert (await client.get("/users/me", headers=user_headers)).status_code == 401


async def test_deleted_users_token_does_not_sign_in_the_next_user(
    client: AsyncClient, admin: Headers
) -> None:
    """Tokens name their user by id: the newest user deleted, the next one to register
    must not get that id (SQLite would hand it out again without AUTOINCREMENT)."""

    async def register(email: str) -> tuple[int, Headers]:
        body = {"email": email, "password": "correct-horse-9", "name": "Guest"}
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 202, response.text
        login = await client.post("/users/login", json=body)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = await client.get("/users/me", headers=headers)
        return int(me.json()["id"]), headers

    gone_id, gone = await register("gone@example.com")
    assert (await client.delete(f"/users/{gone_id}", headers=admin)).status_code == 204
    new_id, new = await register("newcomer@example.com")

    assert new_id > gone_id
    assert (await client.get("/users/me", headers=gone)).status_code == 401
    refused = await book(client, gone, next_weekday(FRIDAY), "19:00", 2)
    assert refused.status_code == 401, refused.text
    me = await client.get("/users/me", headers=new)
    assert me.status_code == 200 and me.json()["email"] == "newcomer@example.com"
    listed = await client.get("/bookings", headers=new)
    assert listed.status_code == 200 and listed.json()["items"] == []
