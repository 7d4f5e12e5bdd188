"""End to end, through a real SMTP server: an admin closes tomorrow, is told which
bookings that strands, confirms, and each of those guests gets one e-mail saying why
(app/venue/changes.py, app/bookings/stranding.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.auth.models import Role
from app.config import Settings
from tests.conftest import TestDatabase, UserFactory
from tests.factories import LONDON, Headers, booked
from tests.notifications.helpers import Clock, SmtpServer, dispatcher, plain_text


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "reminder_hours": 0}  # only the notices this is about


async def test_admin_closes_tomorrow_and_each_stranded_guest_gets_one_email(
    client: httpx.AsyncClient,
    db: TestDatabase,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    admin: Headers,
    make_user: UserFactory,
) -> None:
    tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
    guests = {}
    for name, day, at in (
        ("ada", tomorrow, "19:00"),
        ("bob", tomorrow, "20:00"),
        ("cy", tomorrow + timedelta(days=1), "19:00"),
    ):
        user, headers = await make_user(Role.customer, email=f"{name}@example.com")
        guests[name] = (user, await booked(client, headers, day, at, 2))
    sender = dispatcher(db, settings, clock)
    assert await sender.run_once() == 3  # the confirmations
    smtp.inbox.messages.clear()

    close = {"closed_dates": [tomorrow.isoformat()]}
    told = await client.put("/restaurant", json=close, headers=admin)
    assert told.status_code == 409, told.text
    stranded = {b["id"]: b for b in told.json()["affected"]}
    assert set(stranded) == {guests["ada"][1]["id"], guests["bob"][1]["id"]}
    assert [b["time"] for b in told.json()["affected"]] == ["19:00", "20:00"]
    assert told.json()["detail"].startswith(f"Closing {tomorrow.isoformat()} would strand 2")
    assert (await client.get("/restaurant")).json()["closed_dates"] == []
    assert await sender.run_once() == 0

    confirmed = await client.put(
        "/restaurant", json=close, params={"cancel_affected": "true"}, headers=admin
    )
    assert confirmed.status_code == 200, confirmed.text
    assert {b["id"] for b in confirmed.json()["cancelled"]} == set(stranded)
    assert confirmed.json()["closed_dates"] == [tomorrow.isoformat()]

    assert await sender.run_once() == 2
    assert await sender.run_once() == 0
    by_recipient = {str(m["To"]): m for m in smtp.inbox.messages}
    assert sorted(by_recipient) == ["ada@example.com", "bob@example.com"]
    why = f"The restaurant is closed on {tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    for name in ("ada", "bob"):
        message = by_recipient[f"{name}@example.com"]
        assert str(message["Subject"]).startswith("Booking cancelled")
        text = plain_text(message)
        assert why in text and "by the restaurant" in text
        assert guests[name][1]["time"] in text
