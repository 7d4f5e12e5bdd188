from __future__ import annotations

import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory

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
    client: AsyncClient, make_user: UserFactory
) -> None:
    _, admin = await make_user(Role.admin)
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
    client: AsyncClient, make_user: UserFactory
) -> None:
    _, admin = await make_user(Role.admin)
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


async def test_delete_user(client: AsyncClient, make_user: UserFactory) -> None:
    _, admin = await make_user(Role.admin)
    user, user_headers = await make_user(Role.customer)
    assert (await client.delete(f"/users/{user.id}", headers=admin)).status_code == 204
    assert (await client.get(f"/users/{user.id}", headers=admin)).status_code == 404
    assert (await client.get("/users/me", headers=user_headers)).status_code == 401
