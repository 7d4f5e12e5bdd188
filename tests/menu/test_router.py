"""The menu (/api/menu): public reading, admin writes, unique names, prices as
two-decimal strings, and retiring (not deleting) an item that is on past orders."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Headers, add_item, line, new_order

# -- Reading -------------------------------------------------------------------------------


async def test_public_menu_lists_available_items_in_position_order(
    client: AsyncClient, admin: Headers
) -> None:
    steak = await add_item(client, admin, "28.00", name="Steak", category="mains", position=20)
    soup = await add_item(client, admin, "6.50", name="Soup", category="starters", position=1)
    fish = await add_item(client, admin, "17.00", name="Fish", category="mains", position=10)
    cake = await add_item(client, admin, "7.00", name="Cake", category="desserts", position=5)
    await add_item(
        client, admin, "9.00", name="Off", category="mains", position=0, is_available=False
    )

    everything = await client.get("/api/menu")  # no token: the menu is public
    assert everything.status_code == 200
    assert [i["name"] for i in everything.json()] == ["Soup", "Cake", "Fish", "Steak"]
    mains = (await client.get("/api/menu", params={"category": "mains"})).json()
    assert [i["id"] for i in mains] == [fish["id"], steak["id"]]
    assert (await client.get("/api/menu", params={"category": "drinks"})).json() == []

    one = await client.get(f"/api/menu/{soup['id']}")
    assert one.status_code == 200
    assert one.json() == {
        "id": soup["id"],
        "name": "Soup",
        "description": "",
        "price": "6.50",
        "category": "starters",
        "is_available": True,
        "position": 1,
    }
    assert cake["price"] == "7.00"
    missing = await client.get("/api/menu/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


async def test_staff_see_the_whole_menu_with_unavailable_items(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup", category="starters", position=1)
    off = await add_item(
        client, admin, "9.00", name="Off", category="mains", position=0, is_available=False
    )
    fish = await add_item(client, admin, "17.00", name="Fish", category="mains", position=10)

    for headers in (admin, staff):
        whole = await client.get("/api/menu/all", headers=headers)
        assert whole.status_code == 200
        assert [(i["name"], i["is_available"]) for i in whole.json()] == [
            ("Off", False),
            ("Soup", True),
            ("Fish", True),
        ]
    mains = await client.get("/api/menu/all", params={"category": "mains"}, headers=admin)
    assert [i["id"] for i in mains.json()] == [off["id"], fish["id"]]
    # Put back on, it is on the public menu again.
    assert (
        await client.put(f"/api/menu/{off['id']}", json={"is_available": True}, headers=admin)
    ).status_code == 200
    assert [i["id"] for i in (await client.get("/api/menu")).json()] == [
        off["id"],
        soup["id"],
        fish["id"],
    ]
    # Guests see only what they can order.
    assert (await client.get("/api/menu/all")).status_code == 401
    assert (await client.get("/api/menu/all", headers=guest)).status_code == 403


# -- Writing -------------------------------------------------------------------------------


async def test_create_and_update_a_menu_item(client: AsyncClient, admin: Headers) -> None:
    created = await client.post(
        "/api/menu",
        json={
            "name": "Burrata",
            "description": "Heritage tomatoes",
            "price": "12.5",
            "category": "starters",
            "position": 3,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["price"] == "12.50"  # money on the wire: a string with two decimals
    assert (item["name"], item["description"], item["category"]) == (
        "Burrata",
        "Heritage tomatoes",
        "starters",
    )
    assert item["is_available"] is True and item["position"] == 3

    changed = await client.put(
        f"/api/menu/{item['id']}",
        json={"price": "13", "description": "With basil", "is_available": False},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["price"] == "13.00" and changed.json()["description"] == "With basil"
    assert changed.json()["name"] == "Burrata" and changed.json()["is_available"] is False
    shown = (await client.get(f"/api/menu/{item['id']}")).json()
    assert shown == changed.json()
    assert item["id"] not in [i["id"] for i in (await client.get("/api/menu")).json()]

    same_name = await client.put(f"/api/menu/{item['id']}", json={"name": "Burrata"}, headers=admin)
    assert same_name.status_code == 200
    unknown = await client.put("/api/menu/999999", json={"price": "1.00"}, headers=admin)
    assert unknown.status_code == 404


async def test_duplicate_names_are_409(client: AsyncClient, admin: Headers) -> None:
    await add_item(client, admin, name="Lamb shank")
    other = await add_item(client, admin, name="Risotto")
    again = await client.post(
        "/api/menu",
        json={"name": "Lamb shank", "price": "5.00", "category": "mains"},
        headers=admin,
    )
    assert again.status_code == 409 and "Lamb shank" in again.json()["detail"]
    rename = await client.put(
        f"/api/menu/{other['id']}", json={"name": "Lamb shank"}, headers=admin
    )
    assert rename.status_code == 409
    assert (await client.get(f"/api/menu/{other['id']}")).json()["name"] == "Risotto"
    assert [i["name"] for i in (await client.get("/api/menu")).json()] == ["Lamb shank", "Risotto"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Free", "price": "0", "category": "mains"},
        {"name": "Negative", "price": "-1.00", "category": "mains"},
        {"name": "Fraction", "price": "1.234", "category": "mains"},
        {"name": "No price", "category": "mains"},
        {"price": "5.00", "category": "mains"},
        {"name": "", "price": "5.00", "category": "mains"},
        {"name": "No category", "price": "5.00"},
    ],
)
async def test_invalid_menu_items_are_422(
    client: AsyncClient, admin: Headers, body: dict[str, Any]
) -> None:
    response = await client.post("/api/menu", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert (await client.get("/api/menu")).json() == []


async def test_price_must_stay_positive_on_update(client: AsyncClient, admin: Headers) -> None:
    item = await add_item(client, admin, "4.50")
    for price in ("0", "0.00", "-3"):
        response = await client.put(f"/api/menu/{item['id']}", json={"price": price}, headers=admin)
        assert response.status_code == 422, price
    assert (await client.get(f"/api/menu/{item['id']}")).json()["price"] == "4.50"


# -- Deleting ------------------------------------------------------------------------------


async def test_delete_never_ordered_item_removes_it(client: AsyncClient, admin: Headers) -> None:
    item = await add_item(client, admin)
    response = await client.delete(f"/api/menu/{item['id']}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(f"/api/menu/{item['id']}")).status_code == 404
    assert (await client.get("/api/menu")).json() == []
    assert (await client.delete(f"/api/menu/{item['id']}", headers=admin)).status_code == 404


async def test_delete_ordered_item_retires_it(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    item = await add_item(client, admin, "8.00", name="Pie")
    order = await new_order(client, staff, [line(item, 2)])
    response = await client.delete(f"/api/menu/{item['id']}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == item["id"] and response.json()["is_available"] is False
    kept = await client.get(f"/api/menu/{item['id']}")
    assert kept.status_code == 200 and kept.json()["is_available"] is False
    assert (await client.get("/api/menu")).json() == []
    # The past order still shows it, at its price.
    shown = (await client.get(f"/api/orders/{order['id']}", headers=staff)).json()
    assert [(i["name"], i["unit_price"], i["quantity"]) for i in shown["items"]] == [
        ("Pie", "8.00", 2)
    ]
    # A retired item cannot be ordered any more.
    refused = await client.post(
        "/api/orders", json={"customer_count": 1, "items": [line(item)]}, headers=staff
    )
    assert refused.status_code == 422 and "Pie" in refused.json()["detail"]


# -- Roles ---------------------------------------------------------------------------------


async def test_menu_writes_are_admin_only(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    item = await add_item(client, admin, name="Kept")
    body = {"name": "New", "price": "5.00", "category": "mains"}
    for headers, expected in (({}, 401), (guest, 403), (staff, 403)):
        assert (await client.post("/api/menu", json=body, headers=headers)).status_code == expected
        assert (
            await client.put(f"/api/menu/{item['id']}", json={"price": "1.00"}, headers=headers)
        ).status_code == expected
        assert (
            await client.delete(f"/api/menu/{item['id']}", headers=headers)
        ).status_code == expected
        # Reading is open to everyone.
        assert (await client.get("/api/menu", headers=headers)).status_code == 200
        assert (await client.get(f"/api/menu/{item['id']}", headers=headers)).status_code == 200
    assert [i["name"] for i in (await client.get("/api/menu")).json()] == ["Kept"]
    assert (await client.get(f"/api/menu/{item['id']}")).json()["price"] == "10.00"
