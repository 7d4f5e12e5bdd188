"""The scenarios: the requests each one sends, built ahead as raw bytes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from bench.client import HttpRequest

SCENARIOS = ("availability", "booking", "booking-table", "day")

# Bookings made by the booking scenario start at these local times: 150 minutes apart, the
# longest default dining time, so bookings of one table in different blocks never overlap.
# All are after 03:00, clear of the daylight-saving changes in Europe/London.
BOOKING_BLOCKS = ("03:00", "05:30", "08:00", "10:30", "13:00", "15:30", "18:00", "20:30")
# Party size of the n-th booking made in one block: with best fit, all twelve fit the
# default 20 tables (6 x 2, 7 x 4, 3 x 6, 2 x 8, 1 x 10, 1 x 12) whatever their order.
PARTY_ROUNDS = (2, 4, 2, 6, 3, 8, 2, 4, 5, 10, 1, 12)

MakeRequest = Callable[[int, int], bytes]  # (request index, worker index) -> raw request


@dataclass
class Scenario:
    name: str
    ok_status: int
    make: MakeRequest
    describe: str


def _times(first: str, last: str, step: int = 15) -> list[str]:
    h1, m1 = map(int, first.split(":"))
    h2, m2 = map(int, last.split(":"))
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(h1 * 60 + m1, h2 * 60 + m2 + 1, step)]


def availability_scenario(port: int, today: date, seed: int) -> Scenario:
    """GET /bookings/availability at random dates (next two years), times and party sizes."""
    rng = random.Random(seed)
    times = _times("03:00", "21:30")  # valid for every party size once open 00:00-24:00
    pool = [
        HttpRequest.get(
            f"/bookings/availability?date={today + timedelta(days=rng.randint(1, 729))}"
            f"&time={rng.choice(times)}&party_size={rng.randint(1, 12)}",
            port,
        )
        for _ in range(20_000)
    ]
    return Scenario(
        "availability",
        200,
        lambda i, _w: pool[i % len(pool)],
        "GET /bookings/availability?date&time&party_size (random over 2 years, parties 1-12)",
    )


def day_scenario(port: int, today: date, seed: int) -> Scenario:
    """GET /bookings/availability without a time: every slot of a day."""
    rng = random.Random(seed)
    pool = [
        HttpRequest.get(
            f"/bookings/availability?date={today + timedelta(days=rng.randint(1, 729))}"
            f"&party_size={rng.randint(1, 12)}",
            port,
        )
        for _ in range(20_000)
    ]
    return Scenario(
        "day",
        200,
        lambda i, _w: pool[i % len(pool)],
        "GET /bookings/availability?date&party_size (whole day, 85+ slots)",
    )


def booking_scenario(
    port: int,
    today: date,
    tokens: list[str],
    seed: int,
    tables: list[tuple[int, int]] | None = None,
) -> Scenario:
    """POST /bookings: request i goes to slot i mod S (even days x 8 time blocks, shuffled),
    the n-th visit of a slot with party size PARTY_ROUNDS[n], so up to 12 x S succeed.

    With `tables` (scenario booking-table) each request names its table: table (s + n) mod
    20 for the n-th visit of slot s, so concurrent requests ask for different tables and up
    to 20 x S succeed; the party is sized to the table."""
    slots = [
        ((today + timedelta(days=offset)).isoformat(), block)
        for offset in range(2, 729, 2)
        for block in BOOKING_BLOCKS
    ]
    random.Random(seed).shuffle(slots)
    auth = [f"Authorization: Bearer {token}\r\n" for token in tokens]
    count = len(slots)

    def make(i: int, worker: int) -> bytes:
        day, hhmm = slots[i % count]
        visit = i // count
        if tables:
            table_id, capacity = tables[(i % count + visit) % len(tables)]
            party = 1 + i % capacity
            extra = f',"table_id":{table_id}'
        else:
            party = PARTY_ROUNDS[visit % len(PARTY_ROUNDS)]
            extra = ""
        body = f'{{"date":"{day}","time":"{hhmm}","party_size":{party}{extra}}}'.encode()
        # The n-th visit of a slot by another user than the visits before it: one guest's
        # bookings may not overlap (fair use), so a user booking a slot twice is refused.
        user = (i % count + visit) % len(auth)
        return HttpRequest.post_json("/bookings", port, body, auth[user])

    how = "the table named, spread over all tables" if tables else "best-fit table"
    return Scenario(
        "booking-table" if tables else "booking",
        201,
        make,
        f"POST /bookings ({how}) over {count} distinct date/time slots, {len(tokens)} users",
    )
