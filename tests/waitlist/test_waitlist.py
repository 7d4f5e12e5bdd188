"""The waitlist: guests join for a date, a window and a party; when a fitting table comes
free (a cancellation, a change, a no-show) the first entry waiting is given a hold on it
and an e-mail whose link confirms it; unconfirmed, the sweep offers it to the next. Staff
see the list, with walk-ins. Races: each table offered to one entry at a time."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, select

from app.auth.models import Role, User
from app.bookings.models import Booking, BookingStatus
from app.config import Settings
from app.notifications.models import MessageKind, OutboxMessage
from app.waitlist import sweep
from app.waitlist.models import WaitlistEntry
from tests.conftest import TestDatabase, UserFactory
from tests.factories import Headers, Json, availability, book, next_weekday

SATURDAY = 5
DAY = next_weekday(SATURDAY, at_least_days=3)


def join_body(day: date = DAY, start: str = "19:00", end: str = "20:00", party: int = 12) -> Json:
    return {"date": day.isoformat(), "from": start, "to": end, "party_size": party}


async def join(client: AsyncClient, headers: Headers, **kw: Any) -> Json:
    response = await client.post("/waitlist", json=join_body(**kw), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def booked(client: AsyncClient, headers: Headers, at: str = "19:00", party: int = 12,
                 **extra: object) -> Json:  # fmt: skip
    response = await book(client, headers, DAY, at, party, **extra)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def my_entries(client: AsyncClient, headers: Headers) -> list[Json]:
    response = await client.get("/waitlist", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def offers_sent(db: TestDatabase) -> list[OutboxMessage]:
    async with db.database.reader() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == MessageKind.waitlist_offer)
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


def token_of(message: OutboxMessage) -> str:
    assert message.body_text is not None
    found = re.search(r"/waitlist/offers/([A-Za-z0-9_-]+)", message.body_text)
    assert found, message.body_text
    assert found.group(0) in (message.body_html or "")
    return found.group(1)


async def entries(db: TestDatabase) -> list[WaitlistEntry]:
    async with db.database.reader() as session:
        rows = await session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))
        return list(rows.all())


async def live_holds(db: TestDatabase) -> list[Booking]:
    async with db.database.reader() as session:
        rows = await session.scalars(select(Booking).where(Booking.status == BookingStatus.held))
        return list(rows.all())


async def test_join_list_and_leave(client: AsyncClient, make_user: UserFactory) -> None:
    _, bob = await make_user(Role.customer)
    _, ada = await make_user(Role.customer)
    _, eve = await make_user(Role.customer)
    await booked(client, bob)  # the only table for 12 (table 20)
    entry = await join(client, ada)
    assert entry["status"] == "waiting" and entry["from"] == "19:00" and entry["to"] == "20:00"
    assert entry["kind"] == "booking" and entry["offer"] is None
    again = await client.post("/waitlist", json=join_body(), headers=ada)
    assert again.status_code == 409, again.text
    assert [e["id"] for e in await my_entries(client, ada)] == [entry["id"]]
    assert await my_entries(client, eve) == []
    assert (await client.delete(f"/waitlist/{entry['id']}", headers=eve)).status_code == 404
    assert (await client.delete(f"/waitlist/{entry['id']}", headers=ada)).status_code == 204
    assert (await client.delete(f"/waitlist/{entry['id']}", headers=ada)).status_code == 409
    assert [e["status"] for e in await my_entries(client, ada)] == ["cancelled"]
    assert (await client.post("/waitlist", json=join_body())).status_code == 401
    assert (await client.get("/waitlist")).status_code == 401
    await join(client, ada)  # may join again once the first entry left


async def test_the_booking_rules_apply_and_a_free_table_is_booked_not_waited_for(
    client: AsyncClient, make_user: UserFactory
) -> None:
    _, ada = await make_user(Role.customer)
    for body, words in [
        (join_body(party=13), "maximum"),
        (join_body(day=date.today() + timedelta(days=200)), "horizon"),
        (join_body(day=date.today() - timedelta(days=2)), "past"),
        (join_body(start="08:00", end="10:00"), "opening hours"),
        (join_body(start="23:30", end="23:45"), "opening hours"),
        (join_body(start="20:00", end="19:00"), "from"),
        ({**join_body(), "party_size": "4"}, ""),
        ({**join_body(), "to": "25:00"}, ""),
    ]:
        answer = await client.post("/waitlist", json=body, headers=ada)
        assert answer.status_code == 422, (body, answer.text)
        assert words in answer.json()["detail"], answer.text
    free = await client.post("/waitlist", json=join_body(party=2), headers=ada)
    assert free.status_code == 409, free.text
    assert free.json()["free_times"][0] == "19:00", free.text
    assert await my_entries(client, ada) == []


async def test_staff_routes_want_staff(
    client: AsyncClient, guest: Headers, staff: Headers, admin: Headers
) -> None:
    calls = [
        ("GET", "/api/waitlist", None),
        ("POST", "/api/waitlist/walk-ins",
         {"name": "Ann", "phone": "+442079460000", "party_size": 2, "quoted_wait_minutes": 20}),
        ("POST", "/api/waitlist/1/seated", None),
        ("POST", "/api/waitlist/1/offer", None),
        ("DELETE", "/api/waitlist/1", None),
    ]  # fmt: skip
    for method, path, body in calls:
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        customer = await client.request(method, path, json=body, headers=guest)
        assert customer.status_code == 403, (path, customer.text)
    assert (await client.get("/api/waitlist", headers=staff)).status_code == 200
    assert (await client.get("/api/waitlist", headers=admin)).status_code == 200


async def test_staff_keep_walk_ins_and_see_both_kinds_in_order(
    client: AsyncClient, app: FastAPI, make_user: UserFactory, staff: Headers
) -> None:
    _, bob = await make_user(Role.customer)
    _, ada = await make_user(Role.customer)
    walk_in = await client.post(
        "/api/waitlist/walk-ins",
        json={"name": "Ann Door", "phone": "020 7946 0000", "party_size": 3,
              "quoted_wait_minutes": 25},
        headers=staff,
    )  # fmt: skip
    assert walk_in.status_code == 201, walk_in.text
    ann = walk_in.json()
    assert ann["kind"] == "walk_in" and ann["quoted_wait_minutes"] == 25
    assert ann["phone"] == "+442079460000" and ann["name"] == "Ann Door"
    second = await client.post(
        "/api/waitlist/walk-ins",
        json={"name": "Ben", "email": "ben@example.com", "party_size": 2,
              "quoted_wait_minutes": 10},
        headers=staff,
    )  # fmt: skip
    assert second.status_code == 201, second.text
    no_contact = await client.post(
        "/api/waitlist/walk-ins",
        json={"name": "Cy", "party_size": 2, "quoted_wait_minutes": 10},
        headers=staff,
    )
    assert no_contact.status_code == 422, no_contact.text
    today = (await client.get("/api/waitlist", headers=staff)).json()
    assert [(e["name"], e["position"]) for e in today] == [("Ann Door", 1), ("Ben", 2)]
    seated = await client.post(f"/api/waitlist/{ann['id']}/seated", headers=staff)
    assert seated.status_code == 200 and seated.json()["status"] == "seated", seated.text
    again = await client.post(f"/api/waitlist/{ann['id']}/seated", headers=staff)
    assert again.status_code == 409, again.text
    gone = await client.delete(f"/api/waitlist/{second.json()['id']}", headers=staff)
    assert gone.status_code == 204, gone.text
    today = (await client.get("/api/waitlist", headers=staff)).json()
    assert [(e["status"], e["position"]) for e in today] == [("seated", None), ("cancelled", None)]
    # A guest's entry on its date, beside the walk-ins of that date.
    await booked(client, bob)
    await join(client, ada)
    listed = (await client.get(f"/api/waitlist?date={DAY}", headers=staff)).json()
    assert [(e["kind"], e["position"], e["email"] is not None) for e in listed] == [
        ("booking", 1, True)
    ]
    missing = await client.delete("/api/waitlist/999999", headers=staff)
    assert missing.status_code == 404


async def test_a_cancellation_offers_the_table_and_the_link_books_it(
    client: AsyncClient, app: FastAPI, db: TestDatabase, make_user: UserFactory,
    staff: Headers,
) -> None:  # fmt: skip
    now = datetime.now().astimezone()
    app.state.clock = lambda: now
    _, bob = await make_user(Role.customer)
    ada_user, ada = await make_user(Role.customer)
    _, cy = await make_user(Role.customer)
    bobs = await booked(client, bob)
    first = await join(client, ada)
    await join(client, cy)
    assert (await client.delete(f"/bookings/{bobs['id']}", headers=bob)).status_code == 204
    mine = (await my_entries(client, ada))[0]
    assert mine["status"] == "offered", mine
    assert mine["offer"]["time"] == "19:00" and mine["offer"]["table_numbers"] == [20]
    expires = datetime.fromisoformat(mine["offer"]["expires_at"])
    assert expires == now + timedelta(minutes=15)
    assert (await my_entries(client, cy))[0]["status"] == "waiting"
    # The table is held: nobody else can book it meanwhile.
    slot = (await availability(client, DAY, 12, "19:00")).json()
    assert slot["available_tables"] == [], slot
    assert (await book(client, staff, DAY, "19:00", 12)).status_code == 409
    [message] = await offers_sent(db)
    assert message.recipient == ada_user.email
    token = token_of(message)
    shown = await client.get(f"/waitlist/offers/{token}")
    assert shown.status_code == 200, shown.text
    view = shown.json()
    assert (view["status"], view["time"], view["party_size"]) == ("offered", "19:00", 12)
    assert ada_user.email not in shown.text and ada_user.name not in shown.text
    assert (await client.get("/waitlist/offers/not-a-real-token")).status_code == 404
    made = await client.post(f"/waitlist/offers/{token}/confirm")
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["table_number"] == 20 and booking["user_id"] == ada_user.id
    assert booking["status"] == "confirmed"
    assert [b["id"] for b in (await client.get("/bookings", headers=ada)).json()["items"]] == [
        booking["id"]
    ]
    assert (await my_entries(client, ada))[0]["status"] == "booked"
    assert (await my_entries(client, ada))[0]["booking_id"] == booking["id"]
    twice = await client.post(f"/waitlist/offers/{token}/confirm")
    assert twice.status_code == 409, twice.text
    assert (await client.get(f"/waitlist/offers/{token}")).json()["status"] == "booked"
    async with db.database.reader() as session:
        confirmations = await session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.kind == MessageKind.booking_confirmed,
                OutboxMessage.booking_id == booking["id"],
            )
        )
        assert list(confirmations) == [ada_user.email]
    assert first["id"] == mine["id"]


async def test_an_unconfirmed_offer_goes_to_the_next_entry_by_the_sweep(
    client: AsyncClient, app: FastAPI, db: TestDatabase, make_user: UserFactory,
    settings: Settings,
) -> None:  # fmt: skip
    now = datetime.now().astimezone()
    app.state.clock = lambda: now
    _, bob = await make_user(Role.customer)
    _, ada = await make_user(Role.customer)
    cy_user, cy = await make_user(Role.customer)
    bobs = await booked(client, bob)
    await join(client, ada)
    await join(client, cy, start="18:30", end="19:30")
    await client.delete(f"/bookings/{bobs['id']}", headers=bob)
    [to_ada] = await offers_sent(db)
    assert await sweep.sweep_once(db.database, settings, now + timedelta(minutes=14)) == 0
    later = now + timedelta(minutes=15)
    app.state.clock = lambda: later
    gone = await client.post(f"/waitlist/offers/{token_of(to_ada)}/confirm")
    assert gone.status_code == 410, gone.text
    assert (await client.get(f"/waitlist/offers/{token_of(to_ada)}")).status_code == 410
    assert await sweep.sweep_once(db.database, settings, later) == 1
    assert [e["status"] for e in await my_entries(client, ada)] == ["expired"]
    offered = (await my_entries(client, cy))[0]
    assert offered["status"] == "offered" and offered["offer"]["table_numbers"] == [20]
    _, to_cy = await offers_sent(db)
    assert to_cy.recipient == cy_user.email
    assert len(await live_holds(db)) == 1
    declined = await client.post(f"/waitlist/offers/{token_of(to_cy)}/decline")
    assert declined.status_code == 204, declined.text
    assert await live_holds(db) == []
    assert (await my_entries(client, cy))[0]["status"] == "declined"


async def test_a_change_and_a_no_show_free_tables_for_the_waitlist(
    client: AsyncClient, app: FastAPI, db: TestDatabase, make_user: UserFactory,
    staff: Headers,
) -> None:  # fmt: skip
    _, bob = await make_user(Role.customer)
    _, ada = await make_user(Role.customer)
    _, cy = await make_user(Role.customer)
    bobs = await booked(client, bob)
    await join(client, ada)
    moved = await client.patch(
        f"/bookings/{bobs['id']}", json={"date": (DAY + timedelta(days=1)).isoformat()},
        headers=bob,
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert (await my_entries(client, ada))[0]["status"] == "offered"
    # A no-show: the rest of the evening is the waitlist's (lead time counted from now).
    dans = await booked(client, staff, at="12:00", party=10)
    await booked(client, staff, at="12:00", party=10)  # tables 19 and 20: all there is
    await join(client, cy, start="12:00", end="14:00", party=10)
    start = datetime.fromisoformat(dans["starts_at"])
    app.state.clock = lambda: start + timedelta(minutes=5)
    marked = await client.post(f"/bookings/{dans['id']}/no-show", headers=staff)
    assert marked.status_code == 200, marked.text
    offered = (await my_entries(client, cy))[0]
    assert offered["status"] == "offered", offered
    assert offered["offer"]["time"] == "12:45"  # 12:05 + 30 minutes' lead, on the grid


async def test_racing_cancellations_offer_each_table_to_one_entry(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    """Tables 19 and 20 are the only ones for 10; both are cancelled at once while five
    guests wait: the two oldest entries get one table each, the others wait."""
    owners = [(await make_user(Role.customer))[1] for _ in range(2)]
    bookings = [await booked(client, h, party=10) for h in owners]
    waiting = [(await make_user(Role.customer))[1] for _ in range(5)]
    joined = [await join(client, h, start="19:00", end="19:00", party=10) for h in waiting]
    pairs = zip(bookings, owners, strict=True)
    answers = await asyncio.gather(
        *(client.delete(f"/bookings/{b['id']}", headers=h) for b, h in pairs)
    )
    assert [a.status_code for a in answers] == [204, 204]
    rows = {e.id: e for e in await entries(db)}
    statuses = [rows[j["id"]].status.value for j in joined]
    assert statuses == ["offered", "offered", "waiting", "waiting", "waiting"], statuses
    holds = await live_holds(db)
    assert sorted(h.table_id for h in holds) == [19, 20]
    assert sorted(h.id for h in holds) == sorted(
        e.hold_id for e in rows.values() if e.hold_id is not None
    )
    assert len(await offers_sent(db)) == 2


async def test_a_cancellation_racing_a_booking_gives_the_table_once(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    for _ in range(3):
        _, bob = await make_user(Role.customer)
        _, ada = await make_user(Role.customer)
        rivals = [(await make_user(Role.customer))[1] for _ in range(4)]
        bobs = await booked(client, bob)
        entry = await join(client, ada)
        answers = await asyncio.gather(
            client.delete(f"/bookings/{bobs['id']}", headers=bob),
            *(book(client, h, DAY, "19:00", 12) for h in rivals),
        )
        assert answers[0].status_code == 204
        won = [a.status_code for a in answers[1:]].count(201)
        offered = (await my_entries(client, ada))[0]["status"] == "offered"
        assert won + offered == 1, (won, offered, [a.status_code for a in answers])
        async with db.database.writer() as session, session.begin():  # start again
            await session.execute(delete(WaitlistEntry))
            await session.execute(delete(Booking))
        assert entry["id"]


async def test_deleting_an_account_withdraws_its_offer_and_offers_its_tables(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory, admin: Headers
) -> None:
    bob_user, bob = await make_user(Role.customer)
    _, ada = await make_user(Role.customer)
    await booked(client, bob)
    await join(client, ada)
    gone = await client.delete(f"/users/{bob_user.id}", headers=admin)
    assert gone.status_code in (200, 204), gone.text
    assert (await my_entries(client, ada))[0]["status"] == "offered"
    async with db.database.reader() as session:
        assert await session.get(User, bob_user.id) is None
