"""Booking rules on GET /bookings/availability and POST /bookings (app/bookings/
availability.py, service.py and the venue's calendar).

The service clock (app.state.clock) is pinned to 10:00 London time today, so the rules
are checked the same way whatever the time of day the suite runs; dates are relative
to that day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import (
    ALL_DAY,
    LONDON,
    WEEKDAYS,
    Headers,
    availability,
    book,
    booked,
    configure,
    seat_walk_in,
    tomorrow_at_noon,
)


@pytest.fixture
async def today(app: FastAPI, client: AsyncClient, admin: Headers) -> date:
    """The restaurant is in London and its clock reads 10:00 local time today."""
    await configure(client, admin, timezone="Europe/London")
    day = datetime.now(LONDON).date()
    now = datetime.combine(day, time(10), tzinfo=LONDON).astimezone(UTC)
    app.state.clock = lambda: now
    return day


async def bookings_total(client: AsyncClient, staff: Headers, **params: str) -> int:
    response = await client.get("/bookings", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return response.json()["total"]


async def tables(client: AsyncClient, admin: Headers) -> list[dict[str, Any]]:
    response = await client.get("/api/tables", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def fitting(all_tables: list[dict[str, Any]], party_size: int) -> list[dict[str, Any]]:
    """Bookable tables that seat the party, best fit (capacity, then number) first."""
    seated = [t for t in all_tables if t["bookable"] and t["capacity"] >= party_size]
    return sorted(seated, key=lambda t: (t["capacity"], t["table_number"]))


def grid(first: str, last: str, step: int = 15) -> list[str]:
    start, end = (datetime.strptime(v, "%H:%M") for v in (first, last))
    count = int((end - start).total_seconds() // 60) // step
    return [(start + timedelta(minutes=step * i)).strftime("%H:%M") for i in range(count + 1)]


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def next_clock_change(after: date, *, forward: bool, zone: ZoneInfo = LONDON) -> date:
    """The next day (in London unless told) on which the clocks go forward (or back)."""
    for offset in range(1, 400):
        day = after + timedelta(days=offset)
        before = datetime.combine(day, time(), tzinfo=zone).utcoffset()
        after_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).utcoffset()
        assert before is not None and after_day is not None
        if (after_day > before) if forward else (after_day < before):
            return day
    raise AssertionError("no clock change within 400 days")


# -- rules: each refused the same way by both endpoints, and nothing is booked -------------


SettingsFor = Callable[[date], dict[str, Any]]


def no_change(_day: date) -> dict[str, Any]:
    return {}


RULES = [
    # days from today, time, party size, settings to apply, message, whole day refused
    pytest.param(0, "09:45", 2, no_change, "{day} 09:45 is in the past", False, id="past-time"),
    pytest.param(-1, "19:00", 2, no_change, "{day} is in the past", True, id="past-date"),
    pytest.param(
        2, "11:00", 2, no_change, "11:00 is outside opening hours (12:00-23:00)", False,
        id="before-opening",
    ),
    pytest.param(
        2, "23:00", 2, no_change, "23:00 is outside opening hours (12:00-23:00)", False,
        id="at-closing",
    ),
    pytest.param(
        2, "21:45", 2, no_change,
        "21:45 is past the last seating for a party of 2 (21:30, the service ends at 23:00)",
        False, id="past-last-seating-party-2",
    ),
    pytest.param(
        2, "21:15", 4, no_change,
        "21:15 is past the last seating for a party of 4 (21:00, the service ends at 23:00)",
        False, id="past-last-seating-party-4",
    ),
    pytest.param(
        2, "20:45", 5, no_change,
        "20:45 is past the last seating for a party of 5 (20:30, the service ends at 23:00)",
        False, id="past-last-seating-party-5",
    ),
    pytest.param(
        3, "19:00", 2, lambda day: {"closed_dates": [day.isoformat()]},
        "the restaurant is closed on {day}", True, id="closed-date",
    ),
    pytest.param(
        91, "19:00", 2, no_change, "{day} is beyond the booking horizon of 90 days", True,
        id="beyond-horizon",
    ),
    pytest.param(
        0, "10:15", 2, lambda _day: {"opening_hours": ALL_DAY},
        "bookings must be made at least 30 minutes ahead", False, id="inside-lead-time",
    ),
    pytest.param(
        2, "19:10", 2, no_change, "19:10 is not on the 15-minute grid", False, id="off-grid"
    ),
    pytest.param(
        2, "19:00", 0, no_change, "party_size: Input should be greater than or equal to 1",
        True, id="party-of-zero",
    ),
    pytest.param(
        2, "19:00", 13, no_change,
        "party_size 13 is above the maximum of 12; please contact the restaurant",
        True, id="party-above-maximum",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("days", "at", "party", "rule_settings", "message", "whole_day"), RULES)
async def test_rule_is_422_on_availability_and_booking(
    client: AsyncClient,
    admin: Headers,
    staff: Headers,
    guest: Headers,
    today: date,
    days: int,
    at: str,
    party: int,
    rule_settings: SettingsFor,
    message: str,
    whole_day: bool,
) -> None:
    day = today + timedelta(days=days)
    if changes := rule_settings(day):
        await configure(client, admin, **changes)
    expected = message.format(day=day.isoformat())

    checked = await availability(client, day, party, at)
    assert checked.status_code == 422, checked.text
    assert expected in checked.json()["detail"]

    posted = await book(client, guest, day, at, party)
    assert posted.status_code == 422, posted.text
    assert expected in posted.json()["detail"]

    day_view = await availability(client, day, party)
    if whole_day:
        assert day_view.status_code == 422, day_view.text
        assert expected in day_view.json()["detail"]
    else:
        assert day_view.status_code == 200, day_view.text
        # Not on the day's grid at all, or listed as not bookable (with its reason).
        listed = {s["time"]: s for s in day_view.json()["slots"]}
        assert at not in listed or not listed[at]["bookable"], listed.get(at)
    assert await bookings_total(client, staff) == 0


@pytest.mark.parametrize(
    ("days", "at", "party"),
    [
        pytest.param(0, "10:30", 2, id="exactly-the-lead-time"),
        pytest.param(2, "12:00", 2, id="opening-time"),
        pytest.param(2, "21:30", 2, id="last-seating-party-2"),
        pytest.param(2, "21:00", 4, id="last-seating-party-4"),
        pytest.param(2, "20:30", 12, id="last-seating-party-12"),
        pytest.param(90, "19:00", 2, id="last-day-of-horizon"),
    ],
)
async def test_boundaries_are_bookable(
    client: AsyncClient,
    admin: Headers,
    guest: Headers,
    today: date,
    days: int,
    at: str,
    party: int,
) -> None:
    if days == 0:
        await configure(client, admin, opening_hours=ALL_DAY)
    day = today + timedelta(days=days)
    checked = await availability(client, day, party, at)
    assert checked.status_code == 200, checked.text
    assert checked.json()["available_tables"]
    created = await book(client, guest, day, at, party)
    assert created.status_code == 201, created.text
    assert created.json()["date"] == day.isoformat() and created.json()["time"] == at


# -- the day view --------------------------------------------------------------------------


async def test_day_view_lists_every_slot_with_free_table_counts(
    client: AsyncClient, admin: Headers, guest: Headers, today: date
) -> None:
    day = today + timedelta(days=2)
    fits = fitting(await tables(client, admin), 2)
    empty = await availability(client, day, 2)
    assert empty.status_code == 200, empty.text
    body = empty.json()
    assert body["date"] == day.isoformat() and body["party_size"] == 2
    assert [s["time"] for s in body["slots"]] == grid("12:00", "21:30")
    assert {s["available_tables"] for s in body["slots"]} == {len(fits)}
    for slot in body["slots"]:
        local = instant(slot["starts_at"]).astimezone(LONDON)
        assert (local.date(), local.strftime("%H:%M")) == (day, slot["time"])

    await booked(client, guest, day, "19:00", 2)  # 19:00-20:30 on the best-fit table
    counts = {
        s["time"]: s["available_tables"]
        for s in (await availability(client, day, 2)).json()["slots"]
    }
    overlapping = set(grid("17:45", "20:15"))  # starts whose 90 minutes meet 19:00-20:30
    for label, count in counts.items():
        assert count == (len(fits) - 1 if label in overlapping else len(fits)), label

    big = await availability(client, day, 12)
    assert [s["time"] for s in big.json()["slots"]] == grid("12:00", "20:30")
    assert {s["available_tables"] for s in big.json()["slots"]} == {
        len(fitting(await tables(client, admin), 12))
    }


async def test_day_view_today_starts_after_the_lead_time(
    client: AsyncClient, admin: Headers, today: date
) -> None:
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=45)
    response = await availability(client, today, 2)
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    assert [s["time"] for s in slots if s["bookable"]] == grid("10:45", "22:30")
    # The earlier slots are listed, not bookable, saying why.
    assert {s["reason"]["code"] for s in slots if not s["bookable"]} == {"past", "lead_time"}
    assert all(s["available_tables"] == 0 for s in slots if not s["bookable"])


async def test_slots_follow_several_services_a_day(
    client: AsyncClient, admin: Headers, guest: Headers, today: date
) -> None:
    lunch_and_dinner = {
        day: [{"opens": "12:00", "closes": "15:00"}, {"opens": "18:00", "closes": "23:00"}]
        for day in WEEKDAYS
    }
    await configure(client, admin, opening_hours=lunch_and_dinner)
    day = today + timedelta(days=2)

    pair = (await availability(client, day, 2)).json()["slots"]
    labels = [s["time"] for s in pair]
    assert labels == grid("12:00", "13:30") + grid("18:00", "21:30")
    assert not [t for t in labels if t[:2] in {"14", "15", "16", "17"}]
    four = [s["time"] for s in (await availability(client, day, 4)).json()["slots"]]
    assert four == grid("12:00", "13:00") + grid("18:00", "21:00")

    late_lunch = await book(client, guest, day, "13:45", 2)
    assert late_lunch.status_code == 422
    assert late_lunch.json()["detail"] == (
        "13:45 is past the last seating for a party of 2 (13:30, the service ends at 15:00)"
    )
    between = await availability(client, day, 2, "16:00")
    assert between.status_code == 422
    assert between.json()["detail"] == "16:00 is outside opening hours (12:00-15:00, 18:00-23:00)"
    assert (await book(client, guest, day, "13:30", 2)).status_code == 201
    assert (await book(client, guest, day, "18:00", 2)).status_code == 201


# -- best fit and alternatives -------------------------------------------------------------


async def test_available_tables_are_best_fit_first(
    client: AsyncClient, admin: Headers, guest: Headers, today: date
) -> None:
    day = today + timedelta(days=2)
    expected = fitting(await tables(client, admin), 3)
    response = await availability(client, day, 3, "19:00")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["time"] == "19:00" and body["alternatives"] == []
    assert [(t["capacity"], t["table_number"]) for t in body["available_tables"]] == [
        (t["capacity"], t["table_number"]) for t in expected
    ]
    assert [t["id"] for t in body["available_tables"]] == [t["id"] for t in expected]

    chosen = await booked(client, guest, day, "19:00", 3)
    assert chosen["table_id"] == expected[0]["id"]
    again = (await availability(client, day, 3, "19:00")).json()["available_tables"]
    assert [t["id"] for t in again] == [t["id"] for t in expected[1:]]


@pytest.mark.parametrize(
    ("taken_at", "asked_at", "alternatives"),
    [
        # 150-minute dinners from 15:00 block starts 12:45-17:15
        ("15:00", "15:00", ["12:00", "12:15", "12:30", "17:30", "17:45", "18:00"]),
        # from 14:30 they block 12:15-16:45: one free start before, three after
        ("14:30", "14:30", ["12:00", "17:00", "17:15", "17:30"]),
        ("14:30", "13:00", ["12:00", "17:00", "17:15", "17:30"]),
    ],
)
async def test_alternatives_when_no_table_is_free(
    client: AsyncClient,
    admin: Headers,
    staff: Headers,
    guest: Headers,
    today: date,
    taken_at: str,
    asked_at: str,
    alternatives: list[str],
) -> None:
    day = today + timedelta(days=2)
    big_tables = fitting(await tables(client, admin), 10)
    assert [(t["table_number"], t["capacity"]) for t in big_tables] == [(19, 10), (20, 12)]
    # Taken by staff (one guest's bookings may not overlap: fair use)
    assert (await booked(client, staff, day, taken_at, 10))["table_number"] == 19
    assert (await booked(client, staff, day, taken_at, 12))["table_number"] == 20

    for party in (10, 11, 12):
        checked = await availability(client, day, party, asked_at)
        assert checked.status_code == 200, checked.text
        assert checked.json()["available_tables"] == []
        assert checked.json()["alternatives"] == alternatives

        refused = await book(client, guest, day, asked_at, party)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"] == (
            f"No table for {party} is free at {day.isoformat()} {asked_at}"
        )
        assert refused.json()["alternatives"] == alternatives
    assert await bookings_total(client, staff) == 2
    for label in alternatives:
        assert (await availability(client, day, 10, label)).json()["available_tables"]


# -- overlap on one table ------------------------------------------------------------------


async def test_a_booking_blocks_its_table_for_the_whole_dining_duration(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers, today: date
) -> None:
    day = today + timedelta(days=2)
    table = next(t for t in await tables(client, admin) if t["table_number"] == 3)
    assert table["capacity"] == 4

    first = await book(client, staff, day, "19:00", 4, table_id=table["id"])
    assert first.status_code == 201, first.text
    dinner = first.json()
    assert dinner["table_id"] == table["id"]
    assert instant(dinner["ends_at"]) - instant(dinner["starts_at"]) == timedelta(minutes=120)

    for at in ("17:15", "19:00", "20:45"):
        clash = await book(client, guest, day, at, 4, table_id=table["id"])
        assert clash.status_code == 409, (at, clash.text)
        assert "already booked" in clash.json()["detail"]
        offered = (await availability(client, day, 4, at)).json()["available_tables"]
        assert table["id"] not in [t["id"] for t in offered], at
    for at in ("21:00", "17:00"):  # back-to-back after and before
        ok = await book(client, guest, day, at, 4, table_id=table["id"])
        assert ok.status_code == 201, (at, ok.text)
    assert await bookings_total(client, staff) == 3


async def test_walk_in_blocks_bookings_that_overlap_now(
    app: FastAPI, client: AsyncClient, admin: Headers, staff: Headers, guest: Headers
) -> None:
    # the restaurant's clock reads 12:00 tomorrow, so "half an hour from now" is inside
    # the day's service whatever the time of day the test runs
    now = tomorrow_at_noon()
    app.state.clock = lambda: now
    await configure(client, admin, opening_hours=ALL_DAY, lead_minutes=0)
    await seat_walk_in(client, staff, 1, guests=2)
    slot = now + timedelta(minutes=30)
    refused = await book(client, guest, slot.date(), slot.strftime("%H:%M"), 2, table_id=1)
    assert refused.status_code == 409, refused.text
    free = (await availability(client, slot.date(), 2, slot.strftime("%H:%M"))).json()
    assert 1 not in [t["table_number"] for t in free["available_tables"]]
    assert 2 in [t["table_number"] for t in free["available_tables"]]


# -- daylight saving -----------------------------------------------------------------------


async def around_the_clock(client: AsyncClient, admin: Headers) -> None:
    await configure(
        client, admin, timezone="Europe/London", opening_hours=ALL_DAY,
        horizon_days=730, lead_minutes=0,
    )  # fmt: skip


async def test_spring_forward_day_skips_the_missing_hour(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers, today: date
) -> None:
    await around_the_clock(client, admin)
    day = next_clock_change(today, forward=True)  # 2027-03-28 as of 2026

    response = await availability(client, day, 2)
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    labels = [s["time"] for s in slots]
    assert labels == [t for t in grid("00:00", "22:30") if not t.startswith("01:")]
    assert len(set(labels)) == len(labels)
    starts = [instant(s["starts_at"]) for s in slots]
    assert starts == sorted(set(starts))
    for label, start in zip(labels, starts, strict=True):
        offset = timedelta(hours=0 if label < "01:00" else 1)
        assert start.utcoffset() == offset, label
        assert start.strftime("%H:%M") == label
        assert start == datetime.combine(day, time.fromisoformat(label), tzinfo=LONDON)

    expected = f"01:30 does not exist on {day.isoformat()} (the clocks change)"
    missing = await availability(client, day, 2, "01:30")
    assert missing.status_code == 422
    assert missing.json()["detail"] == expected
    refused = await book(client, guest, day, "01:30", 2)
    assert refused.status_code == 422
    assert refused.json()["detail"] == expected
    assert await bookings_total(client, staff) == 0


async def test_fall_back_day_has_each_slot_once_and_real_durations(
    client: AsyncClient, admin: Headers, guest: Headers, today: date
) -> None:
    await around_the_clock(client, admin)
    day = next_clock_change(today, forward=False)  # 2027-10-31 as of 2026

    response = await availability(client, day, 2)
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    labels = [s["time"] for s in slots]
    assert labels == grid("00:00", "22:30")
    starts = [instant(s["starts_at"]).astimezone(UTC) for s in slots]
    assert all(a < b for a, b in pairwise(starts))
    for slot in slots:  # the repeated 01:xx hour is offered once, at its first occurrence
        offset = timedelta(hours=1 if slot["time"] < "02:00" else 0)
        assert instant(slot["starts_at"]).utcoffset() == offset, slot["time"]

    created = await booked(client, guest, day, "00:30", 2)
    starts_at, ends_at = instant(created["starts_at"]), instant(created["ends_at"])
    assert starts_at.utcoffset() == timedelta(hours=1)
    assert ends_at.utcoffset() == timedelta(0)
    assert ends_at - starts_at == timedelta(minutes=90)
    # 01:00 the second time round (GMT); ambiguous times only compare equal in UTC
    assert ends_at == datetime.combine(day, time(1, 0, fold=1), tzinfo=LONDON).astimezone(UTC)


async def test_last_seating_is_worked_out_in_real_time_on_a_clock_change(
    client: AsyncClient, admin: Headers, staff: Headers, guest: Headers, today: date
) -> None:
    """A late-night service, Sundays 00:00-04:00 (both of London's changes fall on a
    Sunday at 01:00): a party of 5 dines 150 minutes and must be gone by 04:00."""
    await configure(
        client, admin, timezone="Europe/London", horizon_days=730, lead_minutes=0,
        opening_hours={"sunday": [{"opens": "00:00", "closes": "04:00"}]},
    )  # fmt: skip

    spring = next_clock_change(today, forward=True)  # a 23-hour day: 00:45 would end 04:15
    offered = (await availability(client, spring, 5)).json()["slots"]
    assert [s["time"] for s in offered] == ["00:00", "00:15", "00:30"]
    closing = datetime.combine(spring, time(4), tzinfo=LONDON)
    assert all(instant(s["starts_at"]) + timedelta(minutes=150) <= closing for s in offered)
    late = await book(client, guest, spring, "00:45", 5)
    assert late.status_code == 422
    assert late.json()["detail"] == (
        "00:45 is past the last seating for a party of 5 (00:30, the service ends at 04:00)"
    )

    fall = next_clock_change(today, forward=False)  # a 25-hour day: 01:45 BST ends 03:15 GMT
    offered = (await availability(client, fall, 5)).json()["slots"]
    assert [s["time"] for s in offered] == grid("00:00", "01:45")
    created = await booked(client, guest, fall, "01:45", 5)
    ends_at = instant(created["ends_at"])
    assert ends_at.utcoffset() == timedelta(0) and ends_at.strftime("%H:%M") == "03:15"
    too_late = await book(client, guest, fall, "02:00", 5)  # 02:00 GMT would end 04:30
    assert too_late.status_code == 422
    assert "(01:45, the service ends at 04:00)" in too_late.json()["detail"]
    assert await bookings_total(client, staff) == 1


async def test_a_closing_time_the_clocks_skip_is_the_moment_they_jump(
    client: AsyncClient, admin: Headers, today: date
) -> None:
    """New York's clocks go from 02:00 EST to 03:00 EDT: a service that 'ends at 02:00'
    ends at that jump, two real hours after midnight, and a couple (90 minutes) can sit
    down until 00:30."""
    new_york = ZoneInfo("America/New_York")
    await configure(
        client, admin, timezone="America/New_York", horizon_days=730, lead_minutes=0,
        opening_hours={"sunday": [{"opens": "00:00", "closes": "02:00"}]},
    )  # fmt: skip
    spring = next_clock_change(today, forward=True, zone=new_york)
    offered = (await availability(client, spring, 2)).json()["slots"]
    assert [s["time"] for s in offered] == ["00:00", "00:15", "00:30"]


# -- a restaurant in another time zone than the server -------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "at"),
    [
        ("America/New_York", "20:00"),  # 20:00 local is already the next day in UTC
        ("Pacific/Auckland", "19:00"),
        ("Pacific/Auckland", "12:00"),  # the previous day in UTC while NZ is on +13:00
    ],
)
async def test_local_times_in_the_restaurant_zone(
    client: AsyncClient,
    admin: Headers,
    staff: Headers,
    guest: Headers,
    today: date,
    app: FastAPI,
    zone_name: str,
    at: str,
) -> None:
    await configure(client, admin, timezone=zone_name)
    zone = ZoneInfo(zone_name)
    day = app.state.clock().astimezone(zone).date() + timedelta(days=3)
    expected = datetime.combine(day, time.fromisoformat(at), tzinfo=zone)

    checked = await availability(client, day, 2, at)
    assert checked.status_code == 200, checked.text
    assert instant(checked.json()["starts_at"]) == expected
    assert instant(checked.json()["starts_at"]).utcoffset() == expected.utcoffset()

    created = await booked(client, guest, day, at, 2)
    starts_at = instant(created["starts_at"])
    assert starts_at.utcoffset() == expected.utcoffset()
    assert starts_at == expected
    assert starts_at.astimezone(UTC) == expected.astimezone(UTC)
    assert (created["date"], created["time"]) == (day.isoformat(), at)

    listed = await client.get("/bookings", params={"date": day.isoformat()}, headers=staff)
    assert listed.status_code == 200, listed.text
    assert [b["id"] for b in listed.json()["items"]] == [created["id"]]
    for neighbour in (day - timedelta(days=1), day + timedelta(days=1)):
        assert await bookings_total(client, staff, date=neighbour.isoformat()) == 0
