"""Fair use (app/bookings/fairuse.py, and book_table on PostgreSQL): one customer account
holds no two overlapping bookings and at most max_active_bookings_per_guest upcoming ones;
staff are exempt."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from tests.factories import FRIDAY, Headers, book, booking_body, configure, next_weekday


async def test_a_guest_cannot_hold_two_overlapping_bookings(
    client: AsyncClient, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    first = await book(client, guest, day, "19:00", 2)
    assert first.status_code == 201
    # The same request again without an Idempotency-Key, and a later overlapping one.
    for at in ("19:00", "20:00", "18:00"):
        again = await book(client, guest, day, at, 2)
        assert again.status_code == 409, again.text
        assert f"booking {first.json()['id']}" in again.json()["detail"]
    assert (await book(client, guest, day, "12:00", 2)).status_code == 201  # lunch is fine
    listed = (await client.get("/bookings", headers=guest)).json()
    assert listed["total"] == 2


async def test_at_most_the_settings_number_of_upcoming_bookings(
    client: AsyncClient, guest: Headers, staff: Headers, admin: Headers
) -> None:
    await configure(client, admin, max_active_bookings_per_guest=2)
    days = [next_weekday(FRIDAY, at_least_days=n) for n in (1, 8, 15)]
    made = [await book(client, guest, d, "19:00", 2) for d in days]
    assert [r.status_code for r in made] == [201, 201, 409]
    assert "2 upcoming bookings" in made[2].json()["detail"]
    cancel = await client.delete(f"/bookings/{made[0].json()['id']}", headers=guest)
    assert cancel.status_code == 204
    assert (await book(client, guest, days[2], "19:00", 2)).status_code == 201
    # Staff are exempt: they book for many guests.
    for d in days:
        assert (await book(client, staff, d, "19:00", 2)).status_code == 201
        assert (await book(client, staff, d, "19:15", 2)).status_code == 201


async def test_the_setting_is_validated(client: AsyncClient, admin: Headers) -> None:
    bad = await client.put("/restaurant", json={"max_active_bookings_per_guest": 0}, headers=admin)
    assert bad.status_code == 422
    shown = (await client.get("/restaurant")).json()
    assert shown["max_active_bookings_per_guest"] == 4


async def test_concurrent_bookings_of_one_guest_for_one_evening_book_once(
    client: AsyncClient, guest: Headers, staff: Headers
) -> None:
    """Eight requests at once for overlapping times on different tables: exactly one wins,
    whichever path (book_table or the full path) each takes."""
    day = next_weekday(FRIDAY)
    await book(client, guest, day, "12:00", 2)  # the guest record exists: the fast path
    times = ["19:00", "19:15", "19:30", "19:45", "20:00", "19:00", "19:30", "20:00"]
    answers = await asyncio.gather(
        *(client.post("/bookings", json=booking_body(day, at, 2), headers=guest) for at in times)
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    evening = (await client.get("/bookings", params={"date": day.isoformat()},
                                headers=staff)).json()  # fmt: skip
    assert evening["total"] == 2
