"""The kitchen screens' Server-Sent Events (app/kitchen/stream.py), read from a real server:
new tickets and status changes in order, resuming after the last event seen, and a
browser's way in (the stream cookie, app.deps.StreamUser)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth import security
from app.auth.models import Role
from app.auth.security import TokenType
from app.config import Settings
from tests.conftest import UserFactory
from tests.factories import Headers, add_item, line, move, new_order, table_id
from tests.servers import FAST_STREAM, EventReader, live_server


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_stream_shows_new_tickets_and_status_changes(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers, make_user: UserFactory
) -> None:
    _, cook = await make_user(Role.staff)
    soup = await add_item(client, admin, "6.50", name="Soup")
    tid = await table_id(client, staff, 7)
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/kitchen/stream", headers=staff) as response,
    ):
        screen = EventReader(response)
        order = await new_order(client, staff, [line(soup, 2, notes="no cream")], table_id=tid)
        (created,) = await screen.next()
        assert created["event"] == "ticket_created"
        ticket = created["data"]
        assert ticket["order_id"] == order["id"] and ticket["table_number"] == 7
        assert ticket["status"] == "pending"
        assert [(i["name"], i["quantity"], i["notes"]) for i in ticket["items"]] == [
            ("Soup", 2, "no cream")
        ]
        assert {"id", "created_at", "updated_at"} <= set(ticket)

        for status in ("preparing", "ready"):
            assert (await move(client, cook, ticket["id"], status)).status_code == 200
        refused = await move(client, cook, ticket["id"], "pending")
        assert refused.status_code == 409  # a refused move sends nothing
        second = await new_order(client, staff, [line(soup)])
        events = await screen.next(3)
        assert [(e["event"], e["data"]["id"], e["data"]["status"]) for e in events] == [
            ("ticket_updated", ticket["id"], "preparing"),
            ("ticket_updated", ticket["id"], "ready"),
            ("ticket_created", events[2]["data"]["id"], "pending"),
        ]
        assert events[2]["data"]["order_id"] == second["id"]
        assert events[2]["data"]["id"] != ticket["id"]
        ids = [int(e["id"]) for e in [created, *events]]
        assert ids == sorted(ids) and len(set(ids)) == 4


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_stream_resumes_after_last_event_id(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        async with http.stream("GET", "/api/kitchen/stream", headers=staff) as response:
            screen = EventReader(response)
            await new_order(client, staff, [line(dish)])
            (created,) = await screen.next()
            ticket_id = created["data"]["id"]
            for status in ("preparing", "ready"):
                assert (await move(client, staff, ticket_id, status)).status_code == 200
            seen = await screen.next(2)
        # The screen lost its connection after the first event; both ways to resume
        # replay what came after it, in order, then carry on live.
        resumes: list[tuple[Headers, dict[str, str] | None]] = [
            ({**staff, "Last-Event-ID": created["id"]}, None),
            (staff, {"after": created["id"]}),
        ]
        for n, (headers, params) in enumerate(resumes):
            async with http.stream(
                "GET", "/api/kitchen/stream", headers=headers, params=params
            ) as response:
                screen = EventReader(response)
                replayed = await screen.next(2)
                assert [(e["id"], e["event"], e["data"]["status"]) for e in replayed] == [
                    (seen[0]["id"], "ticket_updated", "preparing"),
                    (seen[1]["id"], "ticket_updated", "ready"),
                ]
                if n == 0:
                    assert (await move(client, staff, ticket_id, "served")).status_code == 200
                    (live,) = await screen.next()
                    assert (live["event"], live["data"]["status"]) == ("ticket_updated", "served")
                    assert int(live["id"]) > int(seen[1]["id"])
                else:
                    later = await new_order(client, staff, [line(dish, 2)])
                    served, new = await screen.next(2)  # served replayed, then the new one
                    assert served["data"]["status"] == "served"
                    assert new["event"] == "ticket_created"
                    assert new["data"]["order_id"] == later["id"]


# -- A browser's stream: the stream cookie instead of the header -------------------------

WEB = {"X-Requested-With": "restaurant-web"}


async def stream_cookie(client: AsyncClient, headers: Headers) -> str:
    """What POST /auth/session/stream gives a signed-in page, as a Cookie header."""
    answer = await client.post("/auth/session/stream", headers={**headers, **WEB})
    assert answer.status_code == 204, answer.text
    return f"restaurant_stream={answer.cookies['restaurant_stream']}"


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_a_browser_follows_the_stream_with_the_cookie_alone(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    """EventSource sends no Authorization header: the stream cookie is enough, and a
    reconnect with Last-Event-ID resumes as with the header."""
    dish = await add_item(client, admin)
    cookie = {"Cookie": await stream_cookie(client, staff)}
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        async with http.stream("GET", "/api/kitchen/stream", headers=cookie) as response:
            screen = EventReader(response)
            order = await new_order(client, staff, [line(dish)])
            (created,) = await screen.next()
            assert created["event"] == "ticket_created"
            assert created["data"]["order_id"] == order["id"]
        await move(client, staff, created["data"]["id"], "preparing")
        resumed = {**cookie, "Last-Event-ID": created["id"]}
        async with http.stream("GET", "/api/kitchen/stream", headers=resumed) as response:
            (moved,) = await EventReader(response).next()
            assert moved["data"]["status"] == "preparing"


async def test_the_stream_refuses_a_bad_cookie_and_checks_the_user_again(
    client: AsyncClient, admin: Headers, make_user: UserFactory, settings: Settings
) -> None:
    """An expired, forged or wrong-kind cookie is a 401; a user demoted to customer since
    the cookie was given is a 403, one deactivated a 401: the account is read again
    whenever a stream opens."""
    user, staff = await make_user(Role.staff)
    customer, _ = await make_user(Role.customer)

    def signed(secret: str, user_id: int, kind: TokenType, minutes: int = 10) -> str:
        token, _ = security.encode_token(
            secret=secret, user_id=user_id, role="staff", token_type=kind,
            lifetime=timedelta(minutes=minutes),
        )  # fmt: skip
        return token

    secret = settings.secret_key
    refused = {
        "expired": (signed(secret, user.id, "stream", minutes=-1), 401),
        "forged": (signed("another-secret-" + "y" * 40, user.id, "stream"), 401),
        "access token": (signed(secret, user.id, "access"), 401),
        "refresh token": (signed(secret, user.id, "refresh"), 401),
        "garbage": ("not-a-token", 401),
        "no such user": (signed(secret, 2_000_000, "stream"), 401),
        "customer": (signed(secret, customer.id, "stream"), 403),
    }
    for name, (token, status) in refused.items():
        answer = await client.get(
            "/api/kitchen/stream", headers={"Cookie": f"restaurant_stream={token}"}
        )
        assert answer.status_code == status, (name, answer.text)
        assert answer.headers["content-type"].startswith("application/json"), name
    assert (await client.get("/api/kitchen/stream")).status_code == 401

    cookie = {"Cookie": await stream_cookie(client, staff)}
    demoted = await client.patch(f"/users/{user.id}", json={"role": "customer"}, headers=admin)
    assert demoted.status_code == 200, demoted.text
    assert (await client.get("/api/kitchen/stream", headers=cookie)).status_code == 403
    restored = await client.patch(f"/users/{user.id}", json={"role": "staff", "is_active": False},
                                  headers=admin)  # fmt: skip
    assert restored.status_code == 200, restored.text
    assert (await client.get("/api/kitchen/stream", headers=cookie)).status_code == 401
