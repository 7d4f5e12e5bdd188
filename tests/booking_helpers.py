"""Small helpers shared by the booking tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from httpx import AsyncClient, Response

ALL_DAY = {
    day: [{"opens": "00:00", "closes": "24:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


def next_weekday(weekday: int, zone: str = "Europe/London", *, at_least_days: int = 1) -> date:
    """The next given weekday (0 = Monday) at least `at_least_days` from today in `zone`."""
    day = datetime.now(ZoneInfo(zone)).date() + timedelta(days=at_least_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


async def configure(client: AsyncClient, admin: dict[str, str], **settings: object) -> dict:
    response = await client.put("/restaurant", json=settings, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def book(
    client: AsyncClient, headers: dict[str, str], day: date, at: str, party: int, **extra: object
) -> Response:
    body = {"date": day.isoformat(), "time": at, "party_size": party, **extra}
    return await client.post("/bookings", json=body, headers=headers)
