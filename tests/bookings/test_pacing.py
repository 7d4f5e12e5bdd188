"""Pacing: at most a service's `pacing_covers` guests starting in any one slot interval,
across tables; availability hides paced-out slots, booking refuses them (409 paced_out
with alternatives), staff may override with a reason, and racing bookings never pass
the limit together (app/bookings/service.py check_pacing, app/db/locks.py pacing_lock)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import (
    FRIDAY,
    Headers,
    availability,
    book,
    booked,
    next_weekday,
)

PHONE_GUEST = {"name": "Grace Hopper", "email": "grace@example.com"}


async def pace(client: AsyncClient, admin: Headers, covers: int | None) -> date:
    """Fridays 12:00-23:00 paced at `covers` per 15-minute slot; the next Friday at least
    two days ahead (answered from the availability cache on PostgreSQL)."""
    hours = {"friday": [{"opens": "12:00", "closes": "23:00", "pacing_covers": covers}]}
    response = await client.patch("/restaurant", json={"opening_hours": hours}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["opening_hours"]["friday"][0]["pacing_covers"] == covers
    return next_weekday(FRIDAY, at_least_days=2)


def slot_of(day_view: Any, at: str) -> Any:
    return {s["time"]: s for s in day_view.json()["slots"]}[at]


async def test_pacing_is_a_setting_of_each_service(client: AsyncClient, admin: Headers) -> None:
    await pace(client, admin, 30)
    shown = (await client.get("/restaurant")).json()["opening_hours"]
    assert shown["friday"] == [{"opens": "12:00", "closes": "23:00", "pacing_covers": 30}]
    assert shown["monday"][0]["pacing_covers"] is None  # default: off
    for wrong in (0, -1, "many"):
        hours = {"friday": [{"opens": "12:00", "closes": "23:00", "pacing_covers": wrong}]}
        refused = await client.patch("/restaurant", json={"opening_hours": hours}, headers=admin)
        assert refused.status_code == 422, refused.text


async def test_a_paced_out_slot_is_refused_and_shown_so(
    client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    day = await pace(client, admin, 6)
    guests = [(await make_user(Role.customer))[1] for _ in range(4)]
    first = await booked(client, guests[0], day, "19:00", 3)
    second = await booked(client, guests[1], day, "19:00", 3)
    assert first["table_id"] != second["table_id"]  # pacing counts across tables
    assert first["pacing_override_reason"] is None

    refused = await book(client, guests[2], day, "19:00", 1)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "paced_out"
    assert "at most 6 guests" in body["detail"]
    assert "19:15" in body["alternatives"] and "19:00" not in body["alternatives"]

    one = (await availability(client, day, 2, "19:00")).json()
    assert one["bookable"] is False and one["available_tables"] == []
    assert one["reason"]["code"] == "paced_out" and "19:00" in one["reason"]["message"]
    assert "19:15" in one["alternatives"]
    day_view = await availability(client, day, 2)
    assert slot_of(day_view, "19:00")["bookable"] is False
    assert slot_of(day_view, "19:00")["reason"]["code"] == "paced_out"
    assert slot_of(day_view, "19:00")["available_tables"] == 0
    assert slot_of(day_view, "19:15")["bookable"] is True  # another interval

    # A slot partly used takes a party that still fits, not a larger one.
    await booked(client, guests[2], day, "20:00", 4)
    assert (await book(client, guests[3], day, "20:00", 3)).json()["code"] == "paced_out"
    assert (await availability(client, day, 3, "20:00")).json()["bookable"] is False
    assert (await availability(client, day, 2, "20:00")).json()["bookable"] is True
    await booked(client, guests[3], day, "20:00", 2)

    # A cancellation gives the covers back.
    cancelled = await client.delete(f"/bookings/{first['id']}", headers=guests[0])
    assert cancelled.status_code == 204, cancelled.text
    assert slot_of(await availability(client, day, 2), "19:00")["bookable"] is True
    await booked(client, guests[0], day, "19:00", 3)


async def test_staff_override_with_a_reason_a_guest_cannot(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    day = await pace(client, admin, 4)
    await booked(client, staff, day, "19:00", 4, guest=PHONE_GUEST)
    plain = await book(
        client, staff, day, "19:00", 2, guest=PHONE_GUEST | {"email": "b@example.com"}
    )
    assert plain.status_code == 409 and plain.json()["code"] == "paced_out", plain.text

    reason = "Regulars; chef agreed"
    over = await booked(
        client, staff, day, "19:00", 2, guest={"name": "Ada", "email": "ada@example.com"},
        pacing_override_reason=reason,
    )  # fmt: skip
    assert over["pacing_override_reason"] == reason
    kept = await client.get(f"/bookings/{over['id']}", headers=staff)
    assert kept.json()["pacing_override_reason"] == reason
    # A reason given when the pace was not reached is not kept.
    free = await booked(
        client, staff, day, "21:00", 2, guest={"name": "Alan", "email": "alan@example.com"},
        pacing_override_reason="just in case",
    )  # fmt: skip
    assert free["pacing_override_reason"] is None

    forbidden = await book(client, guest, day, "19:00", 2, pacing_override_reason="please")
    assert forbidden.status_code == 403, forbidden.text
    forbidden = await book(client, guest, day, "12:00", 2, pacing_override_reason="please")
    assert forbidden.status_code == 403, forbidden.text  # whether or not the slot is paced out
    empty = await book(client, staff, day, "19:00", 2, guest=PHONE_GUEST, pacing_override_reason="")
    assert empty.status_code == 422, empty.text


async def test_a_change_into_a_paced_out_slot_is_refused(
    client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    day = await pace(client, admin, 4)
    first, second = [(await make_user(Role.customer))[1] for _ in range(2)]
    await booked(client, first, day, "19:00", 4)
    mine = await booked(client, second, day, "20:00", 2)
    moved = await client.patch(f"/bookings/{mine['id']}", json={"time": "19:00"}, headers=second)
    assert moved.status_code == 409, moved.text
    assert moved.json()["alternatives"]
    forbidden = await client.patch(
        f"/bookings/{mine['id']}", json={"time": "19:00", "pacing_override_reason": "x"},
        headers=second,
    )  # fmt: skip
    assert forbidden.status_code == 403, forbidden.text
    # Growing within its own interval up to the limit is fine; past it, refused.
    grown = await client.patch(f"/bookings/{mine['id']}", json={"party_size": 4}, headers=second)
    assert grown.status_code == 200, grown.text
    too_big = await client.patch(f"/bookings/{mine['id']}", json={"party_size": 5}, headers=second)
    assert too_big.status_code == 409, too_big.text
    done = await client.patch(
        f"/bookings/{mine['id']}", json={"time": "19:00", "pacing_override_reason": "VIP"},
        headers=staff,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["pacing_override_reason"] == "VIP"


async def test_31_racing_bookings_admit_exactly_30_covers(
    client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    """Parties of two race for 19:00, paced at 30 covers, on 20 tables that could seat
    them all but for the pace: exactly 15 bookings (30 covers) win, whichever tables."""
    day = await pace(client, admin, 30)
    headers = [(await make_user(Role.customer))[1] for _ in range(31)]
    body = {"date": day.isoformat(), "time": "19:00", "party_size": 2}
    answers = await asyncio.gather(
        *(client.post("/bookings", json=body, headers=h) for h in headers)
    )
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 15, statuses
    assert statuses.count(409) == 16, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"paced_out"}
    listed = (await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)).json()
    assert sum(b["party_size"] for b in listed["items"]) == 30
    assert len({b["table_id"] for b in listed["items"]}) == 15


async def test_mixed_parties_racing_never_pass_the_pace(
    client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    """31 bookings of one to four guests (77 covers asked) racing for a slot paced at
    30: the covers admitted never pass 30, and the slot is then full for a party of the
    size that would no longer fit."""
    day = await pace(client, admin, 30)
    sizes = [1 + i % 4 for i in range(31)]
    headers = [(await make_user(Role.customer))[1] for _ in sizes]
    answers = await asyncio.gather(
        *(book(client, h, day, "19:00", size) for h, size in zip(headers, sizes, strict=True))
    )
    admitted = sum(size for size, a in zip(sizes, answers, strict=True) if a.status_code == 201)
    assert {a.status_code for a in answers} <= {201, 409}
    assert 27 <= admitted <= 30, admitted  # a refusal leaves at most 3 covers unused
    listed = (await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)).json()
    assert sum(b["party_size"] for b in listed["items"]) == admitted
    view = (await availability(client, day, 31 - admitted, "19:00")).json()
    assert view["bookable"] is False and view["reason"]["code"] == "paced_out"


async def test_without_pacing_nothing_changes(
    client: AsyncClient, admin: Headers, make_user: UserFactory
) -> None:
    day = await pace(client, admin, None)
    for size in (8, 8, 2, 2):
        await booked(client, (await make_user(Role.customer))[1], day, "19:00", size)
    assert slot_of(await availability(client, day, 2), "19:00")["bookable"] is True
