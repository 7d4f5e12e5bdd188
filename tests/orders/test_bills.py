"""Bills and split bills (app/orders/bills.py): service charge and tax rounded half-up to
the cent, splits that add up exactly (leftover cents to the first bills), and a
property test on the split endpoint. The allocator itself: tests/platform/test_money.py."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import Headers, add_item, configure, line, new_order, serve_all, table_id

_unique = itertools.count(1)


async def split(
    client: AsyncClient, staff: Headers, table: int, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(f"/api/tables/split-bill/{table}", json=body, headers=staff)
    assert response.status_code == 200, response.text
    result = dict(response.json())
    assert sum(Decimal(b["amount"]) for b in result["bills"]) == Decimal(result["total"])
    return result


async def bill_of(client: AsyncClient, staff: Headers, order_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/orders/{order_id}/bill", headers=staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


# -- The bill ------------------------------------------------------------------------------


async def test_bill_without_charges(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    soup = await add_item(client, admin, "6.50", name="Soup")
    steak = await add_item(client, admin, "28.00", name="Steak")
    order = await new_order(client, staff, [line(soup, 3), line(steak, seat_number=2)])
    bill = await bill_of(client, staff, order["id"])
    assert bill["order_id"] == order["id"]
    assert [
        (b["item_id"], b["name"], b["quantity"], b["unit_price"], b["amount"], b["seat_number"])
        for b in bill["lines"]
    ] == [
        (order["items"][0]["id"], "Soup", 3, "6.50", "19.50", None),
        (order["items"][1]["id"], "Steak", 1, "28.00", "28.00", 2),
    ]
    assert {k: bill[k] for k in bill if k not in {"order_id", "lines"}} == {
        "subtotal": "47.50",
        "service_charge_percent": "0.00",
        "service_charge": "0.00",
        "tax_percent": "0.00",
        "tax": "0.00",
        "total": "47.50",
    }
    empty = await new_order(client, staff, [])
    assert (await bill_of(client, staff, empty["id"]))["total"] == "0.00"


async def test_bill_charges_round_half_up_and_tax_includes_service(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    tea = await add_item(client, admin, "3.50", name="Tea")
    cake = await add_item(client, admin, "3.25", name="Cake")
    order = await new_order(client, staff, [line(tea, 2), line(cake)])
    await configure(client, admin, service_charge_percent="10", tax_percent="6.25")
    bill = await bill_of(client, staff, order["id"])
    # subtotal 10.25; service 10% = 1.025 -> 1.03 (half-up); tax 6.25% of 11.28 = 0.705
    # -> 0.71 (half-up; on the subtotal alone it would be 0.64).
    assert {k: bill[k] for k in bill if k not in {"order_id", "lines"}} == {
        "subtotal": "10.25",
        "service_charge_percent": "10.00",
        "service_charge": "1.03",
        "tax_percent": "6.25",
        "tax": "0.71",
        "total": "11.99",
    }
    # The order's own total stays the sum of its lines.
    shown = (await client.get(f"/api/orders/{order['id']}", headers=staff)).json()
    assert shown["total"] == "10.25"


async def test_a_closed_orders_bill_keeps_the_percentages_it_closed_with(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    await configure(client, admin, service_charge_percent="10", tax_percent="0")
    dish = await add_item(client, admin, "20.00")
    open_order = await new_order(client, staff, [line(dish)])
    closed_order = await new_order(client, staff, [line(dish)])
    await serve_all(client, staff, closed_order["id"])
    close = await client.post(f"/api/orders/{closed_order['id']}/close", headers=staff)
    assert close.status_code == 200
    await configure(client, admin, service_charge_percent="20", tax_percent="5")
    closed = await bill_of(client, staff, closed_order["id"])
    assert (closed["service_charge_percent"], closed["total"]) == ("10.00", "22.00")
    still_open = await bill_of(client, staff, open_order["id"])
    assert (still_open["service_charge_percent"], still_open["total"]) == ("20.00", "25.20")


# -- Splitting -----------------------------------------------------------------------------


async def test_equal_split_to_the_cent(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    dish = await add_item(client, admin, "25.00")
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish, 4)], guests=3, table_id=tid)
    line_ids = [i["id"] for i in order["items"]]

    result = await split(client, staff, tid, {"mode": "equal", "parts": 3})
    assert result["order_id"] == order["id"] and result["mode"] == "equal"
    assert result["total"] == "100.00"
    assert [b["amount"] for b in result["bills"]] == ["33.34", "33.33", "33.33"]
    assert all(b["items"] == line_ids for b in result["bills"])
    labels = [b["label"] for b in result["bills"]]
    assert len(set(labels)) == 3 and all(labels)

    by_guests = await split(client, staff, tid)  # no body: equal among the 3 guests
    assert [b["amount"] for b in by_guests["bills"]] == ["33.34", "33.33", "33.33"]
    assert by_guests["mode"] == "equal"
    assert [b["amount"] for b in (await split(client, staff, tid, {"parts": 1}))["bills"]] == [
        "100.00"
    ]
    seven = await split(client, staff, tid, {"mode": "equal", "parts": 7})
    assert [b["amount"] for b in seven["bills"]] == ["14.29"] * 4 + ["14.28"] * 3
    fifty = await split(client, staff, tid, {"mode": "equal", "parts": 50})
    assert [b["amount"] for b in fifty["bills"]] == ["2.00"] * 50

    for parts in (0, -1, 51):
        response = await client.post(
            f"/api/tables/split-bill/{tid}", json={"mode": "equal", "parts": parts}, headers=staff
        )
        assert response.status_code == 422, parts
    unknown_mode = await client.post(
        f"/api/tables/split-bill/{tid}", json={"mode": "by_mood"}, headers=staff
    )
    assert unknown_mode.status_code == 422


async def test_equal_split_includes_charges(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    await configure(client, admin, service_charge_percent="12.5", tax_percent="20")
    dish = await add_item(client, admin, "10.01")
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish, 3)], guests=4, table_id=tid)
    bill = await bill_of(client, staff, order["id"])
    # 30.03 + 3.75 (3.75375) + 6.76 (20% of 33.78 = 6.756) = 40.54
    assert (bill["service_charge"], bill["tax"], bill["total"]) == ("3.75", "6.76", "40.54")
    result = await split(client, staff, tid)
    assert result["total"] == "40.54"
    assert [b["amount"] for b in result["bills"]] == ["10.14", "10.14", "10.13", "10.13"]


async def test_split_by_seat(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    steak = await add_item(client, admin, "10.00", name="Steak")
    fish = await add_item(client, admin, "10.00", name="Fish")
    bread = await add_item(client, admin, "5.01", name="Bread")
    tid = await table_id(client, staff, 3)
    order = await new_order(
        client,
        staff,
        [line(steak, seat_number=1), line(fish, 2, seat_number=2), line(bread)],
        table_id=tid,
    )
    steak_line, fish_line, bread_line = (i["id"] for i in order["items"])
    result = await split(client, staff, tid, {"mode": "by_seat"})
    assert result["mode"] == "by_seat" and result["total"] == "35.01"
    # Each seat pays its own items; the shared bread (5.01) is split 2.51 / 2.50.
    assert [(sorted(b["items"]), b["amount"]) for b in result["bills"]] == [
        (sorted([steak_line, bread_line]), "12.51"),
        (sorted([fish_line, bread_line]), "22.50"),
    ]
    assert "1" in result["bills"][0]["label"] and "2" in result["bills"][1]["label"]

    await configure(client, admin, service_charge_percent="10", tax_percent="20")
    charged = await split(client, staff, tid, {"mode": "by_seat"})
    assert charged["total"] == (await bill_of(client, staff, order["id"]))["total"] == "46.21"
    # 35.01 + 3.50 + 7.70: each seat pays its share of the charges too.
    for bill, own in zip(charged["bills"], (Decimal("12.51"), Decimal("22.50")), strict=True):
        exact = own * Decimal("46.21") / Decimal("35.01")
        assert abs(Decimal(bill["amount"]) - exact) < Decimal("0.01")


async def test_split_by_seat_needs_seated_items(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    await new_order(client, staff, [line(dish, 2)], table_id=tid)
    response = await client.post(
        f"/api/tables/split-bill/{tid}", json={"mode": "by_seat"}, headers=staff
    )
    assert response.status_code == 422 and "seat" in response.json()["detail"]


async def test_split_by_items(client: AsyncClient, admin: Headers, staff: Headers) -> None:
    menu = [await add_item(client, admin, p) for p in ("12.00", "8.50", "3.25", "6.00")]
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(m) for m in menu], table_id=tid)
    a, b, c, d = (i["id"] for i in order["items"])
    result = await split(client, staff, tid, {"mode": "by_items", "groups": [[a, c], [b], [d]]})
    assert result["mode"] == "by_items" and result["total"] == "29.75"
    assert [(x["items"], x["amount"]) for x in result["bills"]] == [
        ([a, c], "15.25"),
        ([b], "8.50"),
        ([d], "6.00"),
    ]

    await configure(client, admin, service_charge_percent="12.5")
    charged = await split(client, staff, tid, {"mode": "by_items", "groups": [[a], [b, c, d]]})
    assert charged["total"] == "33.47"  # 29.75 + 3.72 (3.71875)
    # 12.00 and 17.75 of 29.75: floors 13.50 and 19.96, the leftover cent to the first bill.
    assert [x["amount"] for x in charged["bills"]] == ["13.51", "19.96"]

    bad_groups = {
        "an item left out": ([[a, b], [c]], f"items [{d}] are in no group"),
        "an item twice": ([[a, b], [b, c, d, b]], f"items [{b}] are in more than one group"),
        "an unknown item": ([[a, b, c, d, 999999]], "items [999999] are not on this order"),
        "an empty group": ([[a, b, c, d], []], "a group is empty"),
        "no groups": ([], "by_items needs `groups`"),
    }
    for problem, (groups, detail) in bad_groups.items():
        response = await client.post(
            f"/api/tables/split-bill/{tid}",
            json={"mode": "by_items", "groups": groups},
            headers=staff,
        )
        assert response.status_code == 422, problem
        assert detail in response.text, (problem, response.text)
    missing = await client.post(
        f"/api/tables/split-bill/{tid}", json={"mode": "by_items"}, headers=staff
    )
    assert missing.status_code == 422


async def test_split_needs_a_current_order(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    empty = await client.post(f"/api/tables/split-bill/{tid}", headers=staff)
    assert empty.status_code == 409
    order = await new_order(client, staff, [line(dish)])  # not seated anywhere
    assert (await client.post(f"/api/tables/split-bill/{tid}", headers=staff)).status_code == 409
    seated = await client.post(f"/api/tables/{tid}/assign/{order['id']}", headers=staff)
    assert seated.status_code == 200
    assert (await split(client, staff, tid))["order_id"] == order["id"]
    await client.post(f"/api/tables/{tid}/release", headers=staff)
    after = await client.post(f"/api/tables/split-bill/{tid}", headers=staff)
    assert after.status_code == 409
    missing = await client.post("/api/tables/split-bill/9999", headers=staff)
    assert missing.status_code == 404


async def test_merged_tables_bill_the_groups_order(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    dish = await add_item(client, admin, "20.00")
    five, six = await table_id(client, staff, 5), await table_id(client, staff, 6)
    order = await new_order(client, staff, [line(dish, 5)], guests=8)
    merged = await client.post(f"/api/tables/merge-tables/{five}/{six}", headers=staff)
    assert merged.status_code == 200
    assert (await client.post(f"/api/tables/{six}/assign/{order['id']}", headers=staff)).is_success
    for tid in (five, six):
        result = await split(client, staff, tid, {"mode": "equal", "parts": 3})
        assert result["order_id"] == order["id"] and result["total"] == "100.00"
        assert [b["amount"] for b in result["bills"]] == ["33.34", "33.33", "33.33"]
    by_guests = await split(client, staff, five)
    assert [b["amount"] for b in by_guests["bills"]] == ["12.50"] * 8


async def test_bills_are_for_staff_and_admins(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    dish = await add_item(client, admin)
    tid = await table_id(client, staff, 3)
    order = await new_order(client, staff, [line(dish)], table_id=tid)
    for headers, expected in (({}, 401), (guest, 403)):
        bill = await client.get(f"/api/orders/{order['id']}/bill", headers=headers)
        assert bill.status_code == expected
        response = await client.post(
            f"/api/tables/split-bill/{tid}", json={"parts": 2}, headers=headers
        )
        assert response.status_code == expected
    assert (await split(client, admin, tid, {"parts": 2}))["total"] == "10.00"
    assert (await bill_of(client, admin, order["id"]))["total"] == "10.00"


async def test_equal_split_needs_parts_for_more_than_fifty_guests(
    client: AsyncClient, staff: Headers, admin: Headers
) -> None:
    big = await add_item(client, admin, "10.00")
    for number in (19, 20):
        assert (
            await client.put(
                f"/api/tables/{await table_id(client, staff, number)}",
                json={"capacity": 50},
                headers=admin,
            )
        ).status_code == 200
    t19, t20 = [await table_id(client, staff, n) for n in (19, 20)]
    await client.post(f"/api/tables/merge-tables/{t19}/{t20}", headers=staff)
    order = await new_order(client, staff, [line(big)], guests=60, table_id=t19)
    default = await client.post(
        f"/api/tables/split-bill/{t19}", json={"mode": "equal"}, headers=staff
    )
    assert default.status_code == 422 and "at most 50" in default.json()["detail"]
    given = await client.post(
        f"/api/tables/split-bill/{t19}", json={"mode": "equal", "parts": 4}, headers=staff
    )
    assert given.status_code == 200 and given.json()["order_id"] == order["id"]


# -- Property test against the endpoint (few examples: it uses the database) ---------------


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prices=st.lists(st.integers(1, 500_000), min_size=1, max_size=5),
    parts=st.integers(1, 50),
    service=st.sampled_from(["0", "10", "12.5", "15"]),
    tax=st.sampled_from(["0", "5", "7.25", "20"]),
)
async def test_split_endpoint_always_adds_up(
    client: AsyncClient,
    admin: Headers,
    staff: Headers,
    prices: list[int],
    parts: int,
    service: str,
    tax: str,
) -> None:
    await configure(client, admin, service_charge_percent=service, tax_percent=tax)
    menu = [
        await add_item(client, admin, f"{p / 100:.2f}", name=f"Prop {next(_unique)}")
        for p in prices
    ]
    tid = await table_id(client, staff, 19)
    order = await new_order(
        client,
        staff,
        [line(m, seat_number=n % 3 + 1 if n else None) for n, m in enumerate(menu)],
        table_id=tid,
    )
    try:
        total = (await bill_of(client, staff, order["id"]))["total"]
        equal = await split(client, staff, tid, {"mode": "equal", "parts": parts})
        assert equal["total"] == total and len(equal["bills"]) == parts
        amounts = [cents(b["amount"]) for b in equal["bills"]]
        assert max(amounts) - min(amounts) <= 1 and amounts == sorted(amounts, reverse=True)
        ids = [i["id"] for i in order["items"]]
        each = await split(client, staff, tid, {"mode": "by_items", "groups": [[i] for i in ids]})
        assert each["total"] == total and len(each["bills"]) == len(ids)
        if len(ids) > 1:
            seats = await split(client, staff, tid, {"mode": "by_seat"})
            assert seats["total"] == total
    finally:
        released = await client.post(
            f"/api/tables/{tid}/release", params={"clean": "true"}, headers=staff
        )
        assert released.status_code == 200
