"""Stations (app/kitchen/service.py, `send_tickets`): each ticket goes to the kitchen or the
bar, by its dishes' menu categories; the bar's categories are the restaurant's setting;
the queue and the live stream filter by station."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Headers, add_item, configure, line, move, new_order, queue, tickets_of
from tests.servers import FAST_STREAM, EventReader, live_server


async def test_an_order_sends_one_ticket_per_station(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    steak = await add_item(client, admin, "28.00", name="Steak", category="mains")
    wine = await add_item(client, admin, "7.00", name="Wine", category="drinks")
    soup = await add_item(client, admin, "6.50", name="Soup", category="starters")
    order = await new_order(client, staff, [line(wine, 2), line(steak), line(soup)])
    kitchen, bar = await tickets_of(client, staff, order["id"])
    assert kitchen["station"] == "kitchen" and bar["station"] == "bar"
    assert [(i["name"], i["quantity"]) for i in kitchen["items"]] == [("Steak", 1), ("Soup", 1)]
    assert [(i["name"], i["quantity"]) for i in bar["items"]] == [("Wine", 2)]

    only_drinks = await new_order(client, staff, [line(wine)])
    assert [t["station"] for t in await tickets_of(client, staff, only_drinks["id"])] == ["bar"]

    # More of both, later: again one ticket each; fewer wine comes off the bar's ticket.
    more = await client.put(
        f"/api/orders/{order['id']}",
        json={"items": [line(wine, 1), line(steak, 2), line(soup)]},
        headers=staff,
    )
    assert more.status_code == 200, more.text
    tickets = await tickets_of(client, staff, order["id"])
    assert [(t["station"], [i["quantity"] for i in t["items"]]) for t in tickets] == [
        ("kitchen", [1, 1]),
        ("bar", [1]),
        ("kitchen", [1]),
    ]


async def test_the_queue_filters_by_station(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    steak = await add_item(client, admin, "28.00", category="mains")
    beer = await add_item(client, admin, "5.00", category="drinks")
    first = await new_order(client, staff, [line(steak), line(beer)])
    second = await new_order(client, staff, [line(beer)])
    bar = await queue(client, staff, station="bar")
    assert [(t["order_id"], t["station"]) for t in bar] == [
        (first["id"], "bar"),
        (second["id"], "bar"),
    ]
    kitchen = await queue(client, staff, station="kitchen")
    assert [(t["order_id"], t["station"]) for t in kitchen] == [(first["id"], "kitchen")]
    assert len(await queue(client, staff)) == 3

    assert (await move(client, staff, bar[0]["id"], "preparing")).status_code == 200
    preparing = await queue(client, staff, station="bar", status="preparing")
    assert [t["id"] for t in preparing] == [bar[0]["id"]]
    assert await queue(client, staff, station="kitchen", status="preparing") == []

    wrong = await client.get("/api/kitchen/orders", params={"station": "grill"}, headers=staff)
    assert wrong.status_code == 422 and "station" in wrong.text


async def test_the_bar_categories_are_the_restaurants_setting(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    shown = (await client.get("/restaurant")).json()
    assert shown["bar_categories"] == ["drinks"]
    wine = await add_item(client, admin, "7.00", category="drinks")
    cocktail = await add_item(client, admin, "9.00", category="cocktails")
    before = await new_order(client, staff, [line(wine), line(cocktail)])
    assert [t["station"] for t in await tickets_of(client, staff, before["id"])] == [
        "kitchen",  # the cocktail: not a bar category yet
        "bar",
    ]

    refused = await client.put("/restaurant", json={"bar_categories": ["cocktails"]}, headers=staff)
    assert refused.status_code == 403
    for bad in ([""], ["x" * 41], ["ok"] * 51, "cocktails", [None]):
        response = await client.put("/restaurant", json={"bar_categories": bad}, headers=admin)
        assert response.status_code == 422, (bad, response.text)
    assert (await client.get("/restaurant")).json()["bar_categories"] == ["drinks"]

    settings = await configure(client, admin, bar_categories=[" Cocktails", "WINE", "wine"])
    assert settings["bar_categories"] == ["cocktails", "wine"]
    after = await new_order(client, staff, [line(wine), line(cocktail)])
    tickets = await tickets_of(client, staff, after["id"])
    assert [(t["station"], [i["name"] for i in t["items"]]) for t in tickets] == [
        ("kitchen", [wine["name"]]),
        ("bar", [cocktail["name"]]),
    ]
    # Tickets already sent stay where they were sent.
    assert [t["station"] for t in await tickets_of(client, staff, before["id"])] == [
        "kitchen",
        "bar",
    ]

    nothing_to_the_bar = await configure(client, admin, bar_categories=[])
    assert nothing_to_the_bar["bar_categories"] == []
    last = await new_order(client, staff, [line(wine), line(cocktail)])
    assert [t["station"] for t in await tickets_of(client, staff, last["id"])] == ["kitchen"]


@pytest.mark.parametrize("settings_overrides", FAST_STREAM)
async def test_the_stream_filters_by_station(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    steak = await add_item(client, admin, "28.00", category="mains")
    beer = await add_item(client, admin, "5.00", category="drinks")
    async with (
        live_server(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/kitchen/stream?station=bar", headers=staff) as response,
    ):
        screen = EventReader(response)
        await new_order(client, staff, [line(steak)])
        order = await new_order(client, staff, [line(steak), line(beer)])
        kitchen, bar = await tickets_of(client, staff, order["id"])
        assert (await move(client, staff, kitchen["id"], "preparing")).status_code == 200
        assert (await move(client, staff, bar["id"], "preparing")).status_code == 200
        events = await screen.next(2)
        assert [(e["event"], e["data"]["id"], e["data"]["status"]) for e in events] == [
            ("ticket_created", bar["id"], "pending"),
            ("ticket_updated", bar["id"], "preparing"),
        ]
        assert {e["data"]["station"] for e in events} == {"bar"}
