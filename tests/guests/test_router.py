"""Guests on bookings and the staff's guest book (app/guests)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.auth.models import Role
from app.bookings.models import Booking
from app.guests.models import Guest
from app.notifications.models import OutboxMessage
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, Json, book, booking_body, next_weekday

ADA = {"name": "Ada Lovelace", "phone": "+44 20 7946 0000", "email": "Ada@Example.com"}


async def _phone_booking(
    client: AsyncClient, staff: Headers, at: str = "19:00", party: int = 2, **extra: Any
) -> Json:
    body = booking_body(next_weekday(FRIDAY), at, party, guest=extra.pop("guest", ADA), **extra)
    response = await client.post("/bookings", json=body, headers=staff)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _count(db: TestDatabase, model: Any) -> int:
    async with db.database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _recipients(db: TestDatabase) -> list[str]:
    async with db.database.reader() as session:
        return list(
            await session.scalars(select(OutboxMessage.recipient).order_by(OutboxMessage.id))
        )


async def test_staff_book_a_phone_call_for_the_guest_who_gets_the_email(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    staff_user, staff = await make_user(Role.staff)
    booking = await _phone_booking(client, staff, source="phone")
    assert booking["source"] == "phone"
    assert booking["user_id"] == staff_user.id  # who took it
    guest = booking["guest"]
    assert guest["name"] == "Ada Lovelace"
    assert guest["phone"] == "+442079460000"  # E.164
    assert guest["email"] == "ada@example.com"
    assert await _recipients(db) == ["ada@example.com"]  # never the staff member's
    again = await client.get(f"/bookings/{booking['id']}", headers=staff)
    assert again.json()["guest"] == guest and again.json()["source"] == "phone"


async def test_a_walk_in_with_only_a_phone_gets_no_email(
    client: AsyncClient, db: TestDatabase, staff: Headers
) -> None:
    walk_in = {"name": "Charles Babbage", "phone": "020 7946 0123"}  # as dialled in GB
    booking = await _phone_booking(client, staff, guest=walk_in, source="walk_in")
    assert booking["source"] == "walk_in"
    assert booking["guest"]["phone"] == "+442079460123"
    assert booking["guest"]["email"] is None
    assert await _recipients(db) == []


@pytest.mark.parametrize(
    ("guest", "source", "status", "words"),
    [
        ({"name": "Ada", "phone": "12"}, "phone", 422, "phone"),
        ({"name": "Ada", "phone": "+44 20 7946"}, "phone", 422, "not a valid phone number"),
        ({"name": "Ada", "phone": "020 7946 0000 ext. 12"}, "phone", 422, "extension"),
        ({"name": "Ada"}, "phone", 422, "phone or e-mail"),
        ({"name": "", "email": "a@example.com"}, "phone", 422, "name"),
        ({"name": "Ada", "email": "not-an-address"}, "phone", 422, "email"),
        (None, "phone", 422, "source"),
        (ADA, "online", 422, "source"),
    ],
)
async def test_bad_guest_details_are_refused_and_change_nothing(
    client: AsyncClient, db: TestDatabase, staff: Headers,
    guest: Json | None, source: str, status: int, words: str,
) -> None:  # fmt: skip
    body = booking_body(next_weekday(FRIDAY), "19:00", 2, source=source)
    if guest is not None:
        body["guest"] = guest
    records = await _count(db, Guest)  # the staff member's own
    response = await client.post("/bookings", json=body, headers=staff)
    assert response.status_code == status, response.text
    assert words in response.text.lower()
    assert await _count(db, Booking) == 0
    assert await _count(db, Guest) == records


async def test_a_bad_phone_number_names_its_field(
    client: AsyncClient, staff: Headers, make_user: UserFactory
) -> None:
    """A form can tie the message to the field it is about (the web app marks it)."""
    body = booking_body(next_weekday(FRIDAY), "19:00", 2, source="phone")
    body["guest"] = {"name": "Ada", "phone": "12"}
    refused = await client.post("/bookings", json=body, headers=staff)
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["errors"]] == [["body", "guest", "phone"]]
    _user, headers = await make_user(Role.customer)
    mine = await client.patch("/users/me", json={"phone": "020 7946 0000 ext. 12"}, headers=headers)
    assert mine.status_code == 422
    [error] = mine.json()["errors"]
    assert error["loc"] == ["body", "phone"] and "extension" in error["msg"]
    assert (await client.get("/users/me", headers=headers)).json()["phone"] is None


async def test_a_customer_cannot_book_for_someone_else(
    client: AsyncClient, db: TestDatabase, guest: Headers
) -> None:
    body = booking_body(next_weekday(FRIDAY), "19:00", 2, guest=ADA, source="phone")
    response = await client.post("/bookings", json=body, headers=guest)
    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
    assert await _count(db, Booking) == 0


async def test_a_customers_booking_is_theirs_online(
    client: AsyncClient, db: TestDatabase, make_user: UserFactory
) -> None:
    user, headers = await make_user(Role.customer, email="grace@example.com")
    first = await book(client, headers, next_weekday(FRIDAY), "12:00", 2)
    second = await book(client, headers, next_weekday(FRIDAY), "19:00", 2)
    assert first.status_code == second.status_code == 201
    for answer in (first.json(), second.json()):
        assert answer["source"] == "online"
        assert answer["guest"]["email"] == "grace@example.com"
        assert answer["guest"]["name"] == user.name
    assert first.json()["guest"]["id"] == second.json()["guest"]["id"]  # one record
    assert await _recipients(db) == ["grace@example.com", "grace@example.com"]


async def test_one_record_per_person_matched_by_email_else_phone(
    client: AsyncClient, staff: Headers
) -> None:
    first = await _phone_booking(client, staff, "12:00")
    by_email = await _phone_booking(
        client, staff, "19:00", guest={"name": "A. Lovelace", "email": "ADA@example.com"}
    )
    assert by_email["guest"]["id"] == first["guest"]["id"]
    assert by_email["guest"]["name"] == "Ada Lovelace"  # the record's, as staff keep it
    babbage = {"name": "Charles Babbage", "phone": "+44 20 7946 0999"}
    phone_only = await _phone_booking(client, staff, "12:30", guest=babbage)
    with_email = {**babbage, "phone": "020 7946 0999", "email": "charles@example.com"}
    later = await _phone_booking(client, staff, "20:00", guest=with_email)
    assert later["guest"]["id"] == phone_only["guest"]["id"]
    assert later["guest"]["email"] == "charles@example.com"  # the record gained it
    other = {"name": "Someone Else", "phone": "+44 20 7946 0999", "email": "else@example.com"}
    stranger = await _phone_booking(client, staff, "13:00", guest=other)
    assert stranger["guest"]["id"] != later["guest"]["id"]  # that phone has another address


async def test_staff_find_guests_with_their_history(
    client: AsyncClient, staff: Headers, guest: Headers
) -> None:
    kept = await _phone_booking(client, staff, "12:00")
    dropped = await _phone_booking(client, staff, "19:00")
    assert (await client.delete(f"/bookings/{dropped['id']}", headers=staff)).status_code == 204
    await _phone_booking(client, staff, "20:00", guest={"name": "Bob", "phone": "07911 123456"})
    for q in ("lovelace", "ADA@", "020 7946 0000", "+44 20 7946 0000", "79460000"):
        page = (await client.get("/api/guests", params={"q": q}, headers=staff)).json()
        assert [g["name"] for g in page["items"]] == ["Ada Lovelace"], q
        assert page["total"] == 1
    ada = page["items"][0]
    assert (ada["visits"], ada["cancellations"], ada["no_shows"]) == (0, 1, 0)
    everyone = (await client.get("/api/guests", headers=staff)).json()
    names = [g["name"] for g in everyone["items"]]
    assert {"Ada Lovelace", "Bob"} <= set(names) and names == sorted(names)
    first = (await client.get("/api/guests", params={"limit": 1}, headers=staff)).json()
    assert first["total"] == everyone["total"] and first["items"] == everyone["items"][:1]
    assert (await client.get("/api/guests", params={"q": "%"}, headers=staff)).json()["total"] == 0
    detail = (await client.get(f"/api/guests/{ada['id']}", headers=staff)).json()
    assert {b["id"] for b in detail["bookings"]} == {kept["id"], dropped["id"]}
    assert (await client.get("/api/guests/999999", headers=staff)).status_code == 404
    # A customer sees no guest record, not even by id.
    assert (await client.get("/api/guests", headers=guest)).status_code == 403
    assert (await client.get(f"/api/guests/{ada['id']}", headers=guest)).status_code == 403
    assert (
        await client.patch(f"/api/guests/{ada['id']}", json={}, headers=guest)
    ).status_code == 403
    assert (await client.get("/api/guests")).status_code == 401


async def test_staff_keep_notes_allergies_and_tags(
    client: AsyncClient, db: TestDatabase, staff: Headers, make_user: UserFactory
) -> None:
    ada = (await _phone_booking(client, staff))["guest"]
    bob = (
        await _phone_booking(
            client, staff, "12:00", guest={"name": "Bob", "email": "bob@example.com"}
        )
    )["guest"]
    changes = {"notes": "Prefers the window", "allergies": "peanuts", "tags": ["regular", "vip"],
               "phone": "020 7946 0001"}  # fmt: skip
    kept = await client.patch(f"/api/guests/{ada['id']}", json=changes, headers=staff)
    assert kept.status_code == 200, kept.text
    assert kept.json()["phone"] == "+442079460001"
    assert kept.json()["tags"] == ["regular", "vip"] and kept.json()["allergies"] == "peanuts"
    taken = await client.patch(f"/api/guests/{bob['id']}", json={"email": "ada@example.com"},
                               headers=staff)  # fmt: skip
    assert taken.status_code == 409 and "ada@example.com" in taken.json()["detail"]
    bad = await client.patch(f"/api/guests/{bob['id']}", json={"phone": "123"}, headers=staff)
    assert bad.status_code == 422
    unreachable = await client.patch(f"/api/guests/{bob['id']}", json={"email": None},
                                     headers=staff)  # fmt: skip
    assert unreachable.status_code == 422 and "phone number or an e-mail" in unreachable.text
    after = (await client.get(f"/api/guests/{bob['id']}", headers=staff)).json()
    assert after["email"] == "bob@example.com" and after["phone"] is None  # unchanged
    # An account's own record keeps the account's address.
    _, grace = await make_user(Role.customer, email="grace@example.com")
    mine = (await book(client, grace, next_weekday(FRIDAY), "13:00", 2)).json()["guest"]
    linked = await client.patch(f"/api/guests/{mine['id']}", json={"email": "x@example.com"},
                                headers=staff)  # fmt: skip
    assert linked.status_code == 409


async def test_an_account_never_takes_over_a_record_staff_made(
    client: AsyncClient, staff: Headers, make_user: UserFactory
) -> None:
    """Registering Ada's address proves nothing: that account gets its own record and
    sees neither her phone nor the bookings staff made for her."""
    made = await _phone_booking(client, staff)
    _, someone = await make_user(Role.customer, email="ada@example.com")
    own = (await book(client, someone, next_weekday(FRIDAY), "12:00", 2)).json()
    assert own["guest"]["id"] != made["guest"]["id"]
    assert own["guest"]["phone"] is None
    listed = (await client.get("/bookings", headers=someone)).json()
    assert [b["id"] for b in listed["items"]] == [own["id"]]
    assert (await client.get(f"/bookings/{made['id']}", headers=someone)).status_code == 404


async def test_the_hosts_list_of_a_day_in_order_of_time(
    client: AsyncClient, staff: Headers, guest: Headers
) -> None:
    day = next_weekday(FRIDAY)
    late = await _phone_booking(client, staff, "20:00")
    early = await _phone_booking(
        client, staff, "12:00", guest={"name": "Bob", "phone": "07911 123456"}
    )
    mine = (await book(client, guest, day, "13:00", 2)).json()
    other_day = booking_body(next_weekday(FRIDAY, at_least_days=8), "12:00", 2, guest=ADA)
    assert (await client.post("/bookings", json=other_day, headers=staff)).status_code == 201
    listed = (await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)).json()
    assert [b["id"] for b in listed["items"]] == [early["id"], mine["id"], late["id"]]
    assert listed["items"][0]["guest"] == {"id": early["guest"]["id"], "name": "Bob",
                                           "phone": "+447911123456", "email": None}  # fmt: skip
    for q, expected in (("bob", [early["id"]]), ("07911", [early["id"]]),
                        ("lovelace", [late["id"]])):  # fmt: skip
        found = await client.get("/bookings", params={"date": day.isoformat(), "q": q},
                                 headers=staff)  # fmt: skip
        assert [b["id"] for b in found.json()["items"]] == expected, q
    # A customer's list is their own, whatever they search.
    own = (await client.get("/bookings", params={"q": "bob"}, headers=guest)).json()
    assert own["items"] == []


async def test_an_accounts_phone_is_validated_and_its_record_follows_it(
    client: AsyncClient, make_user: UserFactory, staff: Headers
) -> None:
    _, headers = await make_user(Role.customer, email="grace@example.com")
    bad = await client.patch("/users/me", json={"phone": "not a number"}, headers=headers)
    assert bad.status_code == 422
    me = await client.patch("/users/me", json={"phone": "07400 123456", "name": "Grace H"},
                            headers=headers)  # fmt: skip
    assert me.status_code == 200 and me.json()["phone"] == "+447400123456"
    booked = (await book(client, headers, next_weekday(FRIDAY), "19:00", 2)).json()
    assert booked["guest"]["phone"] == "+447400123456"
    await client.patch("/users/me", json={"name": "Grace Hopper", "phone": ""}, headers=headers)
    record = (await client.get(f"/api/guests/{booked['guest']['id']}", headers=staff)).json()
    assert record["name"] == "Grace Hopper" and record["phone"] is None


async def test_registering_with_a_phone(client: AsyncClient) -> None:
    body = {"email": "new@example.com", "password": "correct horse", "name": "New",
            "phone": "+1 212 555 0100"}  # fmt: skip
    refused = await client.post("/auth/register", json={**body, "phone": "555"})
    assert refused.status_code == 422
    assert (await client.post("/auth/register", json=body)).status_code == 202
    login = {"email": body["email"], "password": body["password"]}
    token = (await client.post("/auth/login", json=login)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    me = await client.get("/users/me", headers=bearer)
    assert me.json()["phone"] == "+12125550100"
    # The first booking makes the account's guest record from the account.
    booked = await book(client, bearer, next_weekday(FRIDAY), "19:00", 2)
    assert booked.status_code == 201, booked.text
    guest = booked.json()["guest"]
    assert (guest["name"], guest["phone"], guest["email"]) == ("New", "+12125550100",
                                                              "new@example.com")  # fmt: skip
    again = await book(client, bearer, next_weekday(FRIDAY), "12:00", 2)
    assert again.json()["guest"]["id"] == guest["id"]


async def test_staff_details_never_match_an_accounts_record(
    client: AsyncClient, db: TestDatabase, staff: Headers
) -> None:
    """Anyone can register a victim's number or address: a phone booking for the victim
    must not land on that account's record (nor send its confirmation, with the manage
    link, to the account's address)."""
    body = {"email": "mallory@example.com", "password": "correct horse", "name": "Mallory",
            "phone": "020 7946 0001"}  # fmt: skip
    assert (await client.post("/auth/register", json=body)).status_code == 202
    login = {"email": body["email"], "password": body["password"]}
    token = (await client.post("/auth/login", json=login)).json()["access_token"]
    mallorys = await book(client, {"Authorization": f"Bearer {token}"}, next_weekday(FRIDAY),
                          "12:00", 2)  # fmt: skip
    bob = {"name": "Bob", "phone": "+44 20 7946 0001"}
    booking = await _phone_booking(client, staff, "19:00", guest=bob)
    assert booking["guest"]["id"] != mallorys.json()["guest"]["id"]
    assert booking["guest"]["name"] == "Bob" and booking["guest"]["email"] is None
    async with db.database.reader() as session:
        told = await session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.booking_id == booking["id"])
        )
        assert list(told) == []  # Bob gave no address: nobody is e-mailed about it


async def test_deleting_an_account_keeps_its_guests_bookings_on_one_record(
    client: AsyncClient, db: TestDatabase, staff: Headers, admin: Headers,
    make_user: UserFactory,
) -> None:  # fmt: skip
    by_phone = await _phone_booking(client, staff, "12:00")  # staff's record for ada@
    user, ada = await make_user(Role.customer, email="ada@example.com")
    online = (await book(client, ada, next_weekday(FRIDAY), "19:00", 2)).json()
    assert online["guest"]["id"] != by_phone["guest"]["id"]
    deleted = await client.delete(f"/users/{user.id}", headers=admin)
    assert deleted.status_code in (200, 204), deleted.text
    record = (await client.get(f"/api/guests/{by_phone['guest']['id']}", headers=staff)).json()
    assert {b["id"] for b in record["bookings"]} == {by_phone["id"], online["id"]}
    assert record["cancellations"] == 1  # the account's own booking to come was cancelled
