"""The load fixture: the restaurant open around the clock for two years, bench users with
access tokens, and seeded bookings on odd days."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import log

BCRYPT_ROUNDS = 4
# Pre-seeded bookings (odd days): every table busy 12:00-14:30 and 19:00-21:30, so some
# availability checks find no table and compute alternatives.
SEED_TIMES = ("12:00", "19:00")
SEED_MINUTES = 150


@dataclass
class Fixture:
    today: date  # restaurant-local
    tokens: list[str]
    seeded_bookings: int
    tables: list[tuple[int, int]]  # (id, capacity)


def _local_instant(zone: ZoneInfo, day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).astimezone(UTC)


# --engine: pacing on every service (wide enough that the load is not refused for it, so
# every check and booking counts covers), two combinations, and tables of each channel.
ENGINE_PACING = {"pacing_covers": 500}
ENGINE_COMBINATIONS = (((11, 12), 14), ((19, 20), 24))
ENGINE_CHANNELS = {16: "in_house", 17: "in_house", 18: "walk_in"}


async def _engine(conn: Any) -> None:
    from sqlalchemy import insert, select, update

    from app.floor.models import RestaurantTable, TableCombination, TableCombinationMember

    ids = dict((await conn.execute(select(RestaurantTable.table_number, RestaurantTable.id))).all())
    for number, channel in ENGINE_CHANNELS.items():
        await conn.execute(
            update(RestaurantTable).where(RestaurantTable.id == ids[number]).values(channel=channel)
        )
    for numbers, capacity in ENGINE_COMBINATIONS:
        members = sorted(ids[n] for n in numbers)
        made = await conn.execute(
            insert(TableCombination).values(
                capacity=capacity, members_key=",".join(map(str, members))
            )
        )
        combination_id = made.inserted_primary_key[0]
        await conn.execute(
            insert(TableCombinationMember),
            [{"combination_id": combination_id, "table_id": t} for t in members],
        )


async def prepare_load(
    url: str, *, users: int, seed_bookings: int, secret: str, engine: bool = False
) -> Fixture:
    """Widen the restaurant's settings, add users and seed bookings; mint access tokens.
    `engine`: also the booking engine's options a restaurant would use (ENGINE)."""
    import bcrypt
    from sqlalchemy import insert, select, text, update

    from app.auth import security
    from app.auth.models import Role, User
    from app.bookings.models import Booking, BookingStatus
    from app.db.base import utcnow
    from app.db.engine import Database
    from app.floor.models import RestaurantTable
    from app.guests.models import Guest
    from app.venue.models import RestaurantSettings
    from app.venue.schemas import WEEKDAYS

    database = Database.from_url(url)
    now = utcnow()
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                update(RestaurantSettings)
                .where(RestaurantSettings.id == 1)
                .values(
                    opening_hours={
                        d: [{"opens": "00:00", "closes": "24:00", **ENGINE_PACING}]
                        if engine
                        else [{"opens": "00:00", "closes": "24:00"}]
                        for d in WEEKDAYS
                    },
                    horizon_days=730,
                    lead_minutes=0,
                    # Fair use as a restaurant would set it, wide enough for the load: a
                    # user holds about ten seeded bookings and a few more from the run.
                    max_active_bookings_per_guest=100,
                    closed_dates=[],
                    updated_at=now,
                )
            )
            if engine:
                await _engine(conn)
            zone = ZoneInfo(
                str(
                    await conn.scalar(
                        select(RestaurantSettings.timezone).where(RestaurantSettings.id == 1)
                    )
                )
            )
            hashed = bcrypt.hashpw(b"bench-password", bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()
            tag = secrets.token_hex(4)
            await conn.execute(
                insert(User),
                [
                    {
                        "email": f"bench-{tag}-{n}@example.com",
                        "name": f"Bench user {n}",
                        "hashed_password": hashed,
                        "role": Role.customer,
                        "is_active": True,
                        "created_at": now,
                    }
                    for n in range(users)
                ],
            )
            user_ids = list(
                await conn.scalars(
                    select(User.id).where(User.email.like(f"bench-{tag}-%")).order_by(User.id)
                )
            )
            # Each user's guest record, as a first booking would make it: every booking
            # of the load can then take book_table's single statement.
            await conn.execute(
                insert(Guest),
                [
                    {"name": f"Bench user {n}", "email": f"bench-{tag}-{n}@example.com",
                     "user_id": user_id, "tags": [], "created_at": now, "updated_at": now}
                    for n, user_id in enumerate(user_ids)
                ],
            )  # fmt: skip
            tables = (
                await conn.execute(
                    select(RestaurantTable.id, RestaurantTable.capacity).order_by(
                        RestaurantTable.id
                    )
                )
            ).all()
            today = now.astimezone(zone).date()
            rows: list[dict[str, Any]] = []
            offset = 1  # odd days only: the booking scenario books even days
            while len(rows) < seed_bookings and offset <= 729:
                day = today + timedelta(days=offset)
                for hhmm in SEED_TIMES:
                    starts_at = _local_instant(zone, day, hhmm)
                    for n, (table_id, capacity) in enumerate(tables):
                        if len(rows) >= seed_bookings:
                            break
                        rows.append({
                            "user_id": user_ids[len(rows) % len(user_ids)],
                            "table_id": table_id,
                            "party_size": min(capacity, 2 + n % 3),
                            "starts_at": starts_at,
                            "ends_at": starts_at + timedelta(minutes=SEED_MINUTES),
                            "status": BookingStatus.confirmed,
                            "created_at": now,
                            "updated_at": now,
                        })  # fmt: skip
                offset += 2
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(Booking), rows[start : start + 5000])
            if database.engine.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE"))
    finally:
        await database.dispose()
    tokens = [
        security.encode_token(
            secret=secret,
            user_id=user_id,
            role=Role.customer.value,
            token_type="access",
            lifetime=timedelta(hours=6),
        )[0]
        for user_id in user_ids
    ]
    log(f"bench: {len(tokens)} users, {len(rows)} seeded bookings, settings widened")
    return Fixture(
        today=today,
        tokens=tokens,
        seeded_bookings=len(rows),
        tables=[(int(t), int(c)) for t, c in tables],
    )
