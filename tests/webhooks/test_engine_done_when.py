"""Issue 24's "done when", tried as a new user would, through the API with a real webhook
receiver: an admin makes 11+12 a combination; a party of 14 books it; a party of 2
asking for table 11 at an overlapping time is refused and offered alternatives; the slot
at 19:00 paced at 30 covers refuses the 31st; a guest waitlisted for Saturday 20:00 is
offered the table the moment another guest cancels, confirms from the e-mail, and the
restaurant's receiver gets "cancelled", "waitlist offered" and "created" in that order,
each signed."""

from __future__ import annotations

import httpx
from standardwebhooks.webhooks import Webhook

from app.auth.models import Role
from app.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import TestDatabase, UserFactory
from tests.factories import Headers, book, booked, next_weekday, table_id
from tests.waitlist.test_waitlist import offers_sent, token_of
from tests.webhooks.conftest import Receiver, drain, register

SATURDAY = 5


async def test_the_engine_as_a_restaurant_uses_it(
    client: httpx.AsyncClient, admin: Headers, make_user: UserFactory, db: TestDatabase,
    receiver: Receiver, dispatcher: WebhookDispatcher,
) -> None:  # fmt: skip
    secret = (await register(client, admin, receiver.url))["secret"]
    day = next_weekday(SATURDAY, at_least_days=2)
    hours = {"saturday": [{"opens": "12:00", "closes": "23:00", "pacing_covers": 30}]}
    settings = {"max_party_size": 14, "opening_hours": hours}
    assert (await client.patch("/restaurant", json=settings, headers=admin)).status_code == 200
    members = [await table_id(client, admin, n) for n in (11, 12)]
    combination = await client.post(
        "/api/tables/combinations", json={"table_ids": members, "capacity": 14}, headers=admin
    )
    assert combination.status_code == 201, combination.text

    guests = [(await make_user(Role.customer))[1] for _ in range(12)]
    fourteen = await booked(client, guests[0], day, "19:00", 14)
    assert fourteen["table_numbers"] == [11, 12]
    two = await book(client, guests[1], day, "19:30", 2, table_id=fourteen["table_id"])
    assert two.status_code == 409 and two.json()["alternatives"], two.text

    # 14 covers start at 19:00; eight parties of two make 30; the 31st guest is refused.
    for headers in guests[1:9]:
        await booked(client, headers, day, "19:00", 2)
    refused = await book(client, guests[9], day, "19:00", 1)
    assert refused.status_code == 409 and refused.json()["code"] == "paced_out", refused.text
    assert refused.json()["alternatives"]

    # Saturday 20:00 for twelve: table 20 is the only one, and it is taken.
    taken = await booked(client, guests[10], day, "20:00", 12)
    assert taken["table_number"] == 20
    waiting = await client.post(
        "/waitlist",
        json={"date": day.isoformat(), "from": "20:00", "to": "20:00", "party_size": 12},
        headers=guests[11],
    )
    assert waiting.status_code == 201, waiting.text
    assert (await client.delete(f"/bookings/{taken['id']}", headers=guests[10])).status_code == 204
    [offer] = await offers_sent(db)
    token = token_of(offer)
    confirmed = await client.post(f"/waitlist/offers/{token}/confirm")
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["table_number"] == 20 and confirmed.json()["party_size"] == 12

    await drain(dispatcher)
    seen = []
    for received in receiver.delivered():
        payload = Webhook(secret).verify(received.body, received.headers)  # each signed
        seen.append((payload["type"], payload["data"].get("id", payload["data"].get("hold_id"))))
    last = seen[-3:]
    assert last == [
        ("booking.cancelled", taken["id"]),
        ("waitlist.offered", confirmed.json()["id"]),
        ("booking.created", confirmed.json()["id"]),
    ], seen[-5:]
