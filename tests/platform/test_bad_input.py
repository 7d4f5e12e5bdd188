"""Bad input gets a clear 4xx and never a 500, on both databases."""

from __future__ import annotations

import httpx
import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import FRIDAY, Headers, Params, book, next_weekday

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("role", "path", "params"),
    [
        (Role.customer, "/bookings", {"offset": HUGE}),
        (Role.admin, "/users/", {"offset": HUGE}),
        (Role.staff, "/api/orders", {"offset": HUGE}),
        (Role.staff, "/api/orders", {"table_id": HUGE}),
        (Role.admin, "/admin/outbox", {"offset": HUGE}),
        (Role.staff, "/api/tables/available/", {"at": "2030-01-01T12:00:00"}),
        (Role.staff, "/api/kitchen/stream", {"after": HUGE}),
        (Role.staff, "/api/floor/stream", {"after": HUGE}),
        (Role.customer, "/bookings/availability", {"date": "10000-01-01", "party_size": 2}),
    ],
)
async def test_out_of_range_parameters_are_422(
    client: AsyncClient, make_user: UserFactory, role: Role, path: str, params: Params
) -> None:
    _, headers = await make_user(role)
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "path", "params"),
    [
        (Role.customer, "/bookings", {"date": "9999-12-31"}),
        (Role.customer, "/bookings", {"from": "0001-01-01", "to": "9999-12-31"}),
        (Role.staff, "/api/tables/available/", {"at": "9999-12-31T23:59:00Z"}),
        (Role.staff, "/api/tables/available/", {"at": "0001-01-01T00:00:00+00:00"}),
        # in range as given, out of range in UTC
        (Role.staff, "/api/tables/available/", {"at": "0001-01-01T00:00:00+14:00"}),
        (Role.staff, "/api/tables/available/", {"at": "9999-12-31T23:59:59-14:00"}),
        (Role.customer, "/bookings/availability", {"date": "9999-12-31", "party_size": 2}),
        (
            Role.customer,
            "/bookings/availability",
            {"date": "0001-01-01", "time": "19:00", "party_size": 2},
        ),
    ],
)
async def test_extreme_dates_never_fail_with_500(
    client: AsyncClient, make_user: UserFactory, role: Role, path: str, params: Params
) -> None:
    _, headers = await make_user(role)
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert "Traceback" not in response.text and "SELECT" not in response.text


async def test_ids_beyond_32_bits_are_refused_cleanly(
    client: httpx.AsyncClient, staff: Headers
) -> None:
    huge = 99_999_999_999
    for path in (f"/api/tables/{huge}", f"/api/orders/{huge}", f"/bookings/{huge}"):
        response = await client.get(path, headers=staff)
        assert response.status_code == 422, (path, response.text)
        assert "less than or equal to 2147483647" in response.json()["detail"]
    body = {"date": "2030-01-04", "time": "19:00", "party_size": 2, "table_id": huge}
    assert (await client.post("/bookings", json=body, headers=staff)).status_code == 422


async def test_time_with_an_offset_is_refused(client: AsyncClient, guest: Headers) -> None:
    body = {"date": "2030-01-04", "time": "19:00+05:00", "party_size": 2}
    response = await client.post("/bookings", json=body, headers=guest)
    assert response.status_code == 422 and "restaurant's local time" in response.json()["detail"]
    query: Params = {"date": "2030-01-04", "time": "19:00+05:00", "party_size": 2}
    assert (await client.get("/bookings/availability", params=query)).status_code == 422


async def test_nul_in_text_is_a_clear_422_on_postgresql(
    client: AsyncClient, guest: Headers, staff: Headers, backend: str
) -> None:
    """PostgreSQL cannot store a NUL character: the guest is told so and nothing is
    booked or registered. SQLite stores the text as given."""
    booked = await book(
        client, guest, next_weekday(FRIDAY), "19:00", 2, special_requests="a\u0000b"
    )
    account = {"email": "nul@example.com", "password": "correct-horse-9", "name": "a\u0000b"}
    registered = await client.post("/auth/register", json=account)
    total = (await client.get("/bookings", headers=staff)).json()["total"]
    if backend == "postgres":
        for response in (booked, registered):
            assert response.status_code == 422, response.text
            assert response.json()["detail"] == (
                "A text contains a character that cannot be stored (such as NUL, \\u0000)"
            )
        assert total == 0
        login = await client.post("/users/login", json=account)
        assert login.status_code == 401
    else:
        assert booked.status_code == 201 and booked.json()["special_requests"] == "a\u0000b"
        assert registered.status_code == 202
        login = await client.post("/users/login", json=account)
        me = await client.get(
            "/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["name"] == "a\u0000b"
        assert total == 1
