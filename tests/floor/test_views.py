"""What the floor sees (app/floor/views.py): a table reserved while a booking holds it,
occupied once the party is seated, cleaning after, free again when the booking goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import (
    ALL_DAY,
    FRIDAY,
    Headers,
    booked,
    configure,
    new_order_id,
    next_weekday,
)


async def test_reserved_appears_and_disappears_with_the_booking(
    client: AsyncClient,
    app: FastAPI,
    staff: Headers,
    admin: Headers,
    guest: Headers,
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    day = next_weekday(FRIDAY)
    booking = await booked(client, guest, day, "19:00", 4, table_id=5)
    starts = datetime.fromisoformat(booking["starts_at"]).astimezone(UTC)

    def at(moment: datetime) -> None:
        app.state.clock = lambda: moment

    async def status() -> str:
        return (await client.get("/api/tables/5", headers=staff)).json()["status"]

    at(starts - timedelta(minutes=31))
    assert await status() == "available"
    at(starts - timedelta(minutes=20))
    view = (await client.get("/api/tables/5", headers=staff)).json()
    assert view["status"] == "reserved" and view["held_for_booking"]["id"] == booking["id"]
    available = (await client.get("/api/tables/available/", headers=staff)).json()
    assert 5 not in [t["table_number"] for t in available]
    walk_in = await new_order_id(client, staff, 2)
    refused = await client.post(f"/api/tables/5/assign/{walk_in}", headers=staff)
    assert refused.status_code == 409
    assert f"held for booking {booking['id']}" in refused.json()["detail"]

    at(starts + timedelta(minutes=5))  # late: still held until seated
    assert await status() == "reserved"
    seated = await client.post(f"/bookings/{booking['id']}/seat", headers=staff)
    assert seated.status_code == 200, seated.text
    assert seated.json()["booking"]["status"] == "seated"
    assert await status() == "occupied"
    done = await client.post(f"/bookings/{booking['id']}/complete", headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert await status() == "cleaning"

    second = await booked(client, guest, day, "21:15", 4, table_id=5)
    await client.post("/api/tables/5/clean", headers=staff)
    at(datetime.fromisoformat(second["starts_at"]) - timedelta(minutes=10))
    assert await status() == "reserved"
    assert (await client.delete(f"/bookings/{second['id']}", headers=guest)).status_code == 204
    assert await status() == "available"
