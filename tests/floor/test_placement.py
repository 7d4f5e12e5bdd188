"""Where the floor plan draws each table (app/floor/service.py, migration 0016): the
seeded room laid out on a grid, placement on create and update, defaults that fit the
seats, taking a table off the plan, and clear 422s for what the grid cannot hold."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.floor.models import RestaurantTable
from tests.conftest import TestDatabase
from tests.factories import Headers, Json, table_id

PLACEMENT = ("pos_x", "pos_y", "width", "height", "shape", "rotation")


def _placement(table: Json) -> tuple[Any, ...]:
    return tuple(table[key] for key in PLACEMENT)


def _overlap(a: Json, b: Json) -> bool:
    return (
        a["pos_x"] < b["pos_x"] + b["width"]
        and b["pos_x"] < a["pos_x"] + a["width"]
        and a["pos_y"] < b["pos_y"] + b["height"]
        and b["pos_y"] < a["pos_y"] + a["height"]
    )


async def test_a_fresh_install_has_a_floor_plan(client: AsyncClient, staff: Headers) -> None:
    """The 20 seeded tables are on the plan, in a grid in order of number, none on
    another, each sized for its seats."""
    tables = (await client.get("/api/tables", headers=staff)).json()
    assert len(tables) == 20
    for table in tables:
        assert table["pos_x"] is not None and table["pos_y"] is not None, table
        assert 0 <= table["pos_x"] <= 1000 and 0 <= table["pos_y"] <= 1000
        assert table["rotation"] == 0
        expected_width = 2 if table["capacity"] <= 4 else (table["capacity"] + 1) // 2
        assert (table["width"], table["height"]) == (expected_width, 2), table
        assert table["shape"] == ("square" if expected_width == 2 else "rect")
    for i, a in enumerate(tables):
        for b in tables[i + 1 :]:
            assert not _overlap(a, b), (a["table_number"], b["table_number"])
    rows = sorted({t["pos_y"] for t in tables})
    assert len(rows) == 4  # five to a row
    first_row = [t for t in tables if t["pos_y"] == rows[0]]
    assert [t["table_number"] for t in first_row] == [1, 2, 3, 4, 5]
    assert [t["pos_x"] for t in first_row] == sorted(t["pos_x"] for t in first_row)
    one = (await client.get(f"/api/tables/{tables[0]['id']}", headers=staff)).json()
    assert _placement(one) == _placement(tables[0])


async def test_a_new_table_is_sized_for_its_seats_unless_told(
    client: AsyncClient, admin: Headers
) -> None:
    cases: list[tuple[Json, tuple[Any, ...]]] = [
        ({"capacity": 2}, (None, None, 2, 2, "square", 0)),
        ({"capacity": 4}, (None, None, 2, 2, "square", 0)),
        ({"capacity": 6}, (None, None, 3, 2, "rect", 0)),
        ({"capacity": 12}, (None, None, 6, 2, "rect", 0)),
        (
            {"capacity": 4, "pos_x": 0, "pos_y": 1000, "width": 3, "height": 3,
             "shape": "round", "rotation": 359},
            (0, 1000, 3, 3, "round", 359),
        ),
        ({"capacity": 8, "pos_x": 40, "pos_y": 12, "shape": "square"},
         (40, 12, 4, 2, "square", 0)),
        ({"capacity": 2, "width": 1, "height": 200}, (None, None, 1, 200, "rect", 0)),
    ]  # fmt: skip
    for number, (body, expected) in enumerate(cases, start=21):
        created = await client.post(
            "/api/tables", json={"table_number": number, **body}, headers=admin
        )
        assert created.status_code == 201, created.text
        assert _placement(created.json()) == expected, body


async def test_an_admin_moves_resizes_and_unplaces_a_table(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    tid = await table_id(client, staff, 6)
    before = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    moved = await client.put(f"/api/tables/{tid}", json={"pos_x": 120, "pos_y": 45}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert _placement(moved.json()) == (120, 45, 3, 2, "rect", 0)
    assert moved.json()["capacity"] == before["capacity"] == 6
    turned = await client.put(
        f"/api/tables/{tid}",
        json={"width": 4, "height": 4, "shape": "round", "rotation": 90},
        headers=admin,
    )
    assert turned.status_code == 200, turned.text
    assert _placement(turned.json()) == (120, 45, 4, 4, "round", 90)
    # Fields left out, or null other than the position, stay as they are.
    kept = await client.put(
        f"/api/tables/{tid}", json={"area": "terrace", "width": None, "shape": None},
        headers=admin,
    )  # fmt: skip
    assert kept.status_code == 200, kept.text
    assert _placement(kept.json()) == (120, 45, 4, 4, "round", 90)
    off = await client.put(f"/api/tables/{tid}", json={"pos_x": None, "pos_y": None},
                           headers=admin)  # fmt: skip
    assert off.status_code == 200, off.text
    assert _placement(off.json()) == (None, None, 4, 4, "round", 90)
    listed = (await client.get("/api/tables", headers=staff)).json()
    assert _placement(next(t for t in listed if t["id"] == tid)) == _placement(off.json())


async def test_placement_outside_the_grid_is_a_clear_422(
    client: AsyncClient, admin: Headers, staff: Headers
) -> None:
    tid = await table_id(client, staff, 3)
    before = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    refused: list[tuple[Json, str]] = [
        ({"pos_x": 1001, "pos_y": 0}, "pos_x"),
        ({"pos_x": 0, "pos_y": -1}, "pos_y"),
        ({"pos_x": 10}, "together"),
        ({"pos_y": None}, "together"),
        ({"pos_x": 10, "pos_y": None}, "both"),
        ({"width": 0}, "width"),
        ({"height": 201}, "height"),
        ({"shape": "oval"}, "shape"),
        ({"rotation": 360}, "rotation"),
        ({"rotation": -90}, "rotation"),
        ({"pos_x": "10", "pos_y": 10}, "pos_x"),
        ({"pos_x": 1.5, "pos_y": 10}, "pos_x"),
        ({"colour": "red"}, "colour"),
    ]
    for body, named in refused:
        for response in (
            await client.put(f"/api/tables/{tid}", json=body, headers=admin),
            await client.post("/api/tables", json={"table_number": 40, "capacity": 2, **body},
                              headers=admin),
        ):  # fmt: skip
            assert response.status_code == 422, (body, response.text)
            assert named in response.json()["detail"], (body, response.json()["detail"])
    after = (await client.get(f"/api/tables/{tid}", headers=staff)).json()
    assert _placement(after) == _placement(before)
    assert 40 not in [
        t["table_number"] for t in (await client.get("/api/tables", headers=staff)).json()
    ]
    staff_move = await client.put(f"/api/tables/{tid}", json={"pos_x": 1, "pos_y": 1},
                                  headers=staff)  # fmt: skip
    assert staff_move.status_code == 403


@pytest.mark.parametrize(
    "values",
    [
        {"pos_x": 5, "pos_y": None},
        {"pos_x": 1001, "pos_y": 5},
        {"width": 0},
        {"height": 201},
        {"shape": "oval"},
        {"rotation": 360},
    ],
)
async def test_the_database_refuses_what_the_api_would(
    db: TestDatabase, values: dict[str, Any]
) -> None:
    """The constraints back the API's checks, whoever writes."""
    with pytest.raises(IntegrityError, match=r"(?i)check|constraint"):
        async with db.database.writer() as session, session.begin():
            await session.execute(
                update(RestaurantTable).where(RestaurantTable.table_number == 1).values(**values)
            )
