"""Booking events reach a real receiver on loopback, signed per Standard Webhooks, in
order per booking, after a receiver outage too; a rolled-back change sends nothing;
nothing is written while no endpoint listens; replay; two dispatchers never send one
delivery twice."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.auth.models import Role
from app.config import Settings
from app.webhooks import service as webhooks_service
from app.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import TestDatabase, UserFactory
from tests.factories import FRIDAY, Headers, Json, booked, next_weekday
from tests.notifications.helpers import Clock
from tests.webhooks.conftest import Receiver, drain, event_count, register


class Refused(Exception):
    pass


def verified(secret: str, received: Any) -> dict[str, Any]:
    """The payload, once its signature is checked with the endpoint's secret."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def kinds(secret: str, receiver: Receiver) -> list[tuple[int, str]]:
    """(booking id, event type) of each delivery the receiver accepted, in order."""
    out = []
    for received in receiver.delivered():
        payload = verified(secret, received)
        out.append((payload["data"]["id"], payload["type"]))
    return out


async def test_created_changed_cancelled_reach_the_receiver_signed_and_in_order(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
    backend: str,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    secret = endpoint["secret"]
    day = next_weekday(FRIDAY, at_least_days=2)
    # On PostgreSQL this booking goes through book_table (days ahead, no key): the
    # trigger sees the database function's insert as any other.
    booking = await booked(client, guest, day, "19:00", 2)
    changed = await client.patch(f"/bookings/{booking['id']}", json={"time": "20:00"},
                                 headers=guest)  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204

    # In one batch, in order: a booking's next event is sent after the one before.
    assert [await dispatcher.run_once() for _ in range(2)] == [3, 0]
    assert kinds(secret, receiver) == [
        (booking["id"], "booking.created"),
        (booking["id"], "booking.changed"),
        (booking["id"], "booking.cancelled"),
    ]
    first, second, third = (verified(secret, r) for r in receiver.delivered())
    assert first["data"] == {
        "id": booking["id"], "status": "confirmed", "date": day.isoformat(), "time": "19:00",
        "starts_at": booking["starts_at"], "ends_at": booking["ends_at"], "party_size": 2,
        "table_numbers": [booking["table_number"]], "source": "online",
        "guest": {"name": booking["guest"]["name"], "phone": None,
                  "email": booking["guest"]["email"]},
    }  # fmt: skip
    assert first["timestamp"].endswith("Z")
    assert datetime.fromisoformat(first["data"]["starts_at"]).utcoffset() is not None
    assert (second["data"]["time"], second["data"]["status"]) == ("20:00", "confirmed")
    assert (third["data"]["time"], third["data"]["status"]) == ("20:00", "cancelled")
    headers = receiver.delivered()[0].headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    assert len({r.headers["webhook-id"] for r in receiver.delivered()}) == 3
    with pytest.raises(WebhookVerificationError):  # another secret does not verify
        Webhook("whsec_" + "QUJD" * 11).verify(receiver.delivered()[0].body, headers)
    tampered = receiver.delivered()[0].body.replace(b'"party_size":2', b'"party_size":9')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


async def test_seated_and_no_show(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: Headers,
    staff: Headers,
    make_user: UserFactory,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    endpoint = await register(client, admin, receiver.url, ["booking.seated", "booking.no_show"])
    day = next_weekday(FRIDAY)
    _, one = await make_user(Role.customer)
    _, two = await make_user(Role.customer)
    seated = await booked(client, one, day, "19:00", 2)
    missed = await booked(client, two, day, "19:00", 2)
    app.state.clock = lambda: datetime.fromisoformat(seated["starts_at"]) + timedelta(minutes=5)
    for path in (f"/bookings/{seated['id']}/seat", f"/bookings/{missed['id']}/no-show"):
        assert (await client.post(path, headers=staff)).status_code == 200
    await drain(dispatcher)
    # Only the types the endpoint asked for: no booking.created.
    assert sorted(kinds(endpoint["secret"], receiver)) == sorted(
        [(seated["id"], "booking.seated"), (missed["id"], "booking.no_show")]
    )


async def test_nothing_is_written_while_no_endpoint_is_enabled(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    db: TestDatabase,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    endpoint = await register(client, admin, receiver.url, enabled=False)
    day = next_weekday(FRIDAY, at_least_days=2)
    await booked(client, guest, day, "19:00", 2)
    assert await event_count(db) == 0
    assert await drain(dispatcher) == 0

    enabled = await client.patch(f"/admin/webhooks/{endpoint['id']}", json={"enabled": True},
                                 headers=admin)  # fmt: skip
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    booking = await booked(client, guest, day, "21:00", 2)
    assert await event_count(db) == 1
    assert await drain(dispatcher) == 1
    assert kinds(endpoint["secret"], receiver) == [(booking["id"], "booking.created")]
    assert await event_count(db) == 0  # fanned out, then gone


async def test_a_rolled_back_change_sends_nothing(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    db: TestDatabase,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    await drain(dispatcher)
    assert len(receiver.delivered()) == 1

    now = datetime.now().astimezone()
    with pytest.raises(Refused):
        async with db.database.writer() as session, session.begin():
            await session.execute(
                text("UPDATE bookings SET status = 'cancelled' WHERE id = :id"),
                {"id": booking["id"]},
            )
            await webhooks_service.emit(session, "waitlist.offered", {"entry": 1}, now=now)
            assert await session.scalar(text("SELECT count(*) FROM webhook_events")) == 2
            raise Refused  # something later in the request fails: all of it rolls back
    assert await event_count(db) == 0
    assert await drain(dispatcher) == 0
    assert kinds(endpoint["secret"], receiver) == [(booking["id"], "booking.created")]
    # The same change committed is sent.
    async with db.database.writer() as session, session.begin():
        await session.execute(
            text("UPDATE bookings SET status = 'cancelled' WHERE id = :id"), {"id": booking["id"]}
        )
    await drain(dispatcher)
    assert kinds(endpoint["secret"], receiver)[-1] == (booking["id"], "booking.cancelled")


async def test_emit_sends_its_data_in_order_with_the_bookings_events(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    db: TestDatabase,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    day = next_weekday(FRIDAY, at_least_days=2)
    booking = await booked(client, guest, day, "19:00", 2)
    now = datetime.now().astimezone()
    offer = {"entry_id": 7, "booking_id": booking["id"], "date": day, "expires_at": now}
    async with db.database.writer() as session, session.begin():
        await webhooks_service.emit(session, "waitlist.offered", offer, now=now,
                                    booking_id=booking["id"])  # fmt: skip
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    assert [await dispatcher.run_once() for _ in range(2)] == [3, 0]
    payloads = [verified(endpoint["secret"], r) for r in receiver.delivered()]
    assert [p["type"] for p in payloads] == [
        "booking.created", "waitlist.offered", "booking.cancelled"
    ]  # fmt: skip
    assert payloads[1]["data"] == {
        "entry_id": 7, "booking_id": booking["id"], "date": day.isoformat(),
        "expires_at": now.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    with pytest.raises(ValueError, match="not a valid"):
        async with db.database.writer() as session, session.begin():
            await webhooks_service.emit(session, "booking.eaten", {}, now=now)


async def deliveries(client: httpx.AsyncClient, admin: Headers, endpoint: Json) -> list[Json]:
    response = await client.get(f"/admin/webhooks/{endpoint['id']}/deliveries", headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_retries_across_a_receiver_outage_then_delivers_in_order(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
    hook_clock: Clock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204

    receiver.status = 500
    assert await dispatcher.run_once() == 1  # created: refused
    assert await dispatcher.run_once() == 0  # backing off; cancelled waits behind it
    receiver.stop()
    hook_clock.now += timedelta(seconds=11)
    assert await dispatcher.run_once() == 1  # created: nobody there
    [cancelled, created] = await deliveries(client, admin, endpoint)
    assert (created["status"], created["attempts"]) == ("pending", 2)
    assert cancelled["status"] == "pending" and cancelled["attempt_log"] == []

    receiver.status = 200
    receiver.start()
    hook_clock.now += timedelta(seconds=21)
    assert await drain(dispatcher) == 2
    assert kinds(endpoint["secret"], receiver) == [
        (booking["id"], "booking.created"),
        (booking["id"], "booking.cancelled"),
    ]
    [cancelled, created] = await deliveries(client, admin, endpoint)
    assert (created["status"], created["attempts"], created["last_error"]) == ("delivered", 3, None)
    log = created["attempt_log"]
    assert [a["status_code"] for a in log] == [500, None, 200]
    assert log[0]["error"].startswith("HTTP 500") and "ConnectError" in log[1]["error"]
    assert log[2]["error"] is None and all(a["duration_ms"] >= 0 for a in log)
    assert (cancelled["status"], cancelled["attempts"]) == ("delivered", 1)
    # Every attempt carried the same webhook-id, signed again each time.
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids[0] == ids[1] == created["message_id"]


async def test_gives_up_after_the_last_attempt_and_replay_sends_it_again(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
    hook_clock: Clock,
    staff: Headers,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    receiver.status = 503
    for _ in range(3):  # WEBHOOK_MAX_ATTEMPTS
        assert await dispatcher.run_once() == 1
        hook_clock.now += timedelta(seconds=30)
    assert await dispatcher.run_once() == 0
    [delivery] = await deliveries(client, admin, endpoint)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert delivery["last_error"].startswith("HTTP 503")

    path = f"/admin/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay"
    assert (await client.post(path, headers=staff)).status_code == 403
    replayed = await client.post(path, headers=admin)
    assert replayed.status_code == 202, replayed.text
    assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)
    again = await client.post(path, headers=admin)
    assert again.status_code == 409 and "pending" in again.json()["detail"]

    receiver.status = 204
    assert await dispatcher.run_once() == 1
    one = await client.get(f"/admin/webhooks/{endpoint['id']}/deliveries/{delivery['id']}",
                           headers=admin)  # fmt: skip
    assert one.status_code == 200
    assert (one.json()["status"], len(one.json()["attempt_log"])) == ("delivered", 4)
    assert one.json()["payload"]["data"]["id"] == booking["id"]
    # A delivered one can be replayed too: the same message, signed anew.
    assert (await client.post(path, headers=admin)).status_code == 202
    assert await dispatcher.run_once() == 1
    assert len(receiver.delivered()) == 2
    assert receiver.delivered()[0].body == receiver.delivered()[1].body
    assert (
        receiver.delivered()[0].headers["webhook-id"]
        == receiver.delivered()[1].headers["webhook-id"]
    )
    verified(endpoint["secret"], receiver.delivered()[1])


async def test_each_endpoint_gets_its_own_delivery_and_a_new_secret_signs_at_once(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    one = await register(client, admin, receiver.url + "/one")
    two = await register(client, admin, receiver.url + "/two", ["booking.cancelled"])
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    await drain(dispatcher)
    assert [r.path for r in receiver.delivered()] == ["/hooks/one"]
    rotated = await client.post(f"/admin/webhooks/{two['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != two["secret"] and new_secret.startswith("whsec_")
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    await drain(dispatcher)
    by_path = {r.path: r for r in receiver.delivered()[1:]}
    assert set(by_path) == {"/hooks/one", "/hooks/two"}
    assert verified(new_secret, by_path["/hooks/two"])["type"] == "booking.cancelled"
    with pytest.raises(WebhookVerificationError):
        verified(two["secret"], by_path["/hooks/two"])
    assert verified(one["secret"], by_path["/hooks/one"])["type"] == "booking.cancelled"


async def test_two_dispatchers_send_each_delivery_once_and_in_order(
    client: httpx.AsyncClient,
    admin: Headers,
    make_user: UserFactory,
    receiver: Receiver,
    db: TestDatabase,
    settings: Settings,
    hook_clock: Clock,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    day = next_weekday(FRIDAY, at_least_days=2)
    ids = []
    for hour in range(12, 18):
        _, headers = await make_user(Role.customer)
        booking = await booked(client, headers, day, f"{hour}:00", 2)
        path = f"/bookings/{booking['id']}"
        assert (await client.patch(path, json={"party_size": 3}, headers=headers)).is_success
        assert (await client.delete(path, headers=headers)).status_code == 204
        ids.append(booking["id"])
    senders = [WebhookDispatcher(db.database, settings, clock=hook_clock, batch_size=4)
               for _ in range(2)]  # fmt: skip
    try:
        for _ in range(30):
            sent = await asyncio.gather(*(s.run_once() for s in senders))
            if not any(sent):
                break
    finally:
        for sender in senders:
            await sender.close()
    received = kinds(endpoint["secret"], receiver)
    assert len(received) == 18
    assert len({r.headers["webhook-id"] for r in receiver.delivered()}) == 18
    for booking_id in ids:
        assert [k for b, k in received if b == booking_id] == [
            "booking.created", "booking.changed", "booking.cancelled"
        ]  # fmt: skip


async def test_payload_keeps_the_event_as_it_was_while_the_dispatcher_was_away(
    client: httpx.AsyncClient,
    admin: Headers,
    guest: Headers,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    endpoint = await register(client, admin, receiver.url)
    booking = await booked(client, guest, next_weekday(FRIDAY, at_least_days=2), "19:00", 2)
    changed = await client.patch(f"/bookings/{booking['id']}", json={"party_size": 4},
                                 headers=guest)  # fmt: skip
    assert changed.status_code == 200
    assert (await client.delete(f"/bookings/{booking['id']}", headers=guest)).status_code == 204
    await drain(dispatcher)
    seen = [verified(endpoint["secret"], r)["data"] for r in receiver.delivered()]
    assert [(d["status"], d["party_size"]) for d in seen] == [
        ("confirmed", 2), ("confirmed", 4), ("cancelled", 4)
    ]  # fmt: skip
    assert json.loads(receiver.delivered()[0].body)["type"] == "booking.created"


async def test_an_endpoint_gets_events_in_the_order_they_happened_across_bookings(
    client: httpx.AsyncClient,
    admin: Headers,
    make_user: UserFactory,
    db: TestDatabase,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
) -> None:
    """The issue's scenario: a cancellation frees a table, the waitlist is offered it in
    the same transaction (emit after an ORM change the session has not flushed yet), the
    guest books it: the receiver gets cancelled, waitlist.offered, created, in order."""
    from app.bookings.models import Booking, BookingStatus

    endpoint = await register(client, admin, receiver.url)
    day = next_weekday(FRIDAY, at_least_days=2)
    _, first = await make_user(Role.customer)
    _, second = await make_user(Role.customer)
    cancelled = await booked(client, first, day, "20:00", 2)
    await drain(dispatcher)
    now = datetime.now().astimezone()
    async with db.database.writer() as session, session.begin():
        row = await session.get(Booking, cancelled["id"])
        assert row is not None
        row.status = BookingStatus.cancelled
        await webhooks_service.emit(session, "waitlist.offered", {"table": 1}, now=now)
    made = await booked(client, second, day, "20:00", 2, table_id=cancelled["table_id"])
    await drain(dispatcher)
    received = [verified(endpoint["secret"], r) for r in receiver.delivered()[1:]]
    assert [(p["type"], p["data"].get("id")) for p in received] == [
        ("booking.cancelled", cancelled["id"]),
        ("waitlist.offered", None),
        ("booking.created", made["id"]),
    ]
