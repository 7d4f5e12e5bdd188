"""The Alembic migrations (migrations/): they agree with the models, and 0012 keeps what
refers to users when SQLite rebuilds the table; 0015 routes existing tickets to a station."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.cli import alembic_config
from app.db.engine import create_engine
from tests.conftest import PG_URL, TestDatabase, _postgres_scratch, _skip_or_fail_pg


async def test_models_and_migrations_agree(db: TestDatabase) -> None:
    """`alembic check` raises if autogenerate would produce any operation."""
    await asyncio.to_thread(command.check, alembic_config(db.url))


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> AbstractAsyncContextManager[str]:
    """A database of its own (not the shared test database), to migrate step by step."""
    if request.param == "postgres":
        if not PG_URL:
            _skip_or_fail_pg("TEST_POSTGRES_URL is not set")
        return _postgres_scratch("_steps")

    async def sqlite() -> AsyncIterator[str]:
        yield f"sqlite+aiosqlite:///{tmp_path / 'steps.db'}"

    return asynccontextmanager(sqlite)()


async def test_0012_keeps_users_and_what_refers_to_them(
    scratch_url: AbstractAsyncContextManager[str],
) -> None:
    """SQLite rebuilds `users` for 0012: the rows, their refresh tokens and bookings must
    come through untouched (with foreign keys on, dropping the old table would have
    deleted the tokens and detached the bookings), and ids must not be reused after."""
    async with scratch_url as url:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0011")
        engine = create_engine(url)  # SQLite: foreign keys on, as the app has them
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        add_user = text(
            "INSERT INTO users (email, name, hashed_password, role, is_active, created_at) "
            "VALUES (:email, 'G', 'x', 'customer', true, :now) RETURNING id"
        )
        try:
            async with engine.begin() as conn:
                first, second = [
                    (await conn.execute(add_user, {"email": email, "now": now})).scalar_one()
                    for email in ("g1@example.com", "g2@example.com")
                ]
                await conn.execute(
                    text(
                        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, "
                        "expires_at, created_at) VALUES (:user, 'f', 'h', :now, :now)"
                    ),
                    {"user": second, "now": now},
                )
                await conn.execute(
                    text(
                        "INSERT INTO bookings (user_id, table_id, party_size, starts_at, "
                        "ends_at, status, created_at, updated_at) VALUES (:user, 1, 2, :starts, "
                        ":ends, 'confirmed', :now, :now)"
                    ),
                    {
                        "user": second,
                        "starts": now + timedelta(days=400),
                        "ends": now + timedelta(days=400, minutes=90),
                        "now": now,
                    },
                )

            await asyncio.to_thread(command.upgrade, alembic_config(url), "head")

            async with engine.connect() as conn:
                users = (await conn.execute(text("SELECT id, email FROM users ORDER BY id"))).all()
                tokens = (await conn.execute(text("SELECT user_id FROM refresh_tokens"))).all()
                bookings = (await conn.execute(text("SELECT user_id FROM bookings"))).all()
            assert [tuple(u) for u in users] == [
                (first, "g1@example.com"),
                (second, "g2@example.com"),
            ]
            assert [t.user_id for t in tokens] == [second]
            assert [b.user_id for b in bookings] == [second]

            # The newest user deleted, the next one gets a new id; the old references
            # still act on the rebuilt table (the token goes with its user).
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": second})
                new_id = (
                    await conn.execute(add_user, {"email": "g3@example.com", "now": now})
                ).scalar_one()
                tokens_left = (
                    await conn.execute(text("SELECT count(*) FROM refresh_tokens"))
                ).scalar_one()
                detached = (await conn.execute(text("SELECT user_id FROM bookings"))).scalar_one()
            assert new_id > second
            assert tokens_left == 0
            assert detached is None
        finally:
            await engine.dispose()


async def test_0013_round_trip_keeps_the_outbox_and_its_kinds(
    scratch_url: AbstractAsyncContextManager[str],
) -> None:
    """0013 widens the outbox's kinds and adds the heartbeats; a downgrade removes the
    account e-mails (their kinds no longer exist) and keeps the booking ones."""
    async with scratch_url as url:
        config = alembic_config(url)
        await asyncio.to_thread(command.upgrade, config, "head")
        engine = create_engine(url)
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        add = text(
            "INSERT INTO outbox_messages (kind, recipient, subject, body_text, body_html, "
            "status, attempts, next_attempt_at, created_at) VALUES (:kind, 'a@example.com', "
            "'s', 't', 'h', 'pending', 0, :now, :now)"
        )
        try:
            async with engine.begin() as conn:
                for kind in ("booking_cancelled", "account_welcome", "account_exists"):
                    await conn.execute(add, {"kind": kind, "now": now})
                await conn.execute(
                    text("INSERT INTO worker_heartbeats (name, beat_at) VALUES ('w', :now)"),
                    {"now": now},
                )
            await asyncio.to_thread(command.downgrade, config, "0012")
            async with engine.connect() as conn:
                kinds = (await conn.execute(text("SELECT kind FROM outbox_messages"))).scalars()
                assert list(kinds) == ["booking_cancelled"]
            with pytest.raises(IntegrityError, match=r"(?i)check|constraint"):
                async with engine.begin() as conn:  # the old kinds only, again
                    await conn.execute(add, {"kind": "account_welcome", "now": now})
            await asyncio.to_thread(command.upgrade, config, "head")
            async with engine.begin() as conn:
                await conn.execute(add, {"kind": "account_exists", "now": now})
                beats = await conn.execute(text("SELECT count(*) FROM worker_heartbeats"))
                assert beats.scalar_one() == 0  # the table was made anew
        finally:
            await engine.dispose()


async def test_0015_sends_existing_drinks_tickets_to_the_bar(
    scratch_url: AbstractAsyncContextManager[str],
) -> None:
    """0015 gives every existing ticket a station: the bar when every dish on it is of a
    bar category (drinks), else the kitchen; a round trip keeps the tickets."""
    async with scratch_url as url:
        config = alembic_config(url)
        await asyncio.to_thread(command.upgrade, config, "0014")
        engine = create_engine(url)
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        try:
            async with engine.begin() as conn:
                menu = {}
                for name, category in (("Wine", "drinks"), ("Beer", "drinks"), ("Steak", "mains")):
                    menu[name] = (
                        await conn.execute(
                            text(
                                "INSERT INTO menu_items (name, description, price, category, "
                                "is_available, position, created_at, updated_at) VALUES "
                                "(:name, '', 5, :category, true, 0, :now, :now) RETURNING id"
                            ),
                            {"name": name, "category": category, "now": now},
                        )
                    ).scalar_one()
                order = (
                    await conn.execute(
                        text(
                            "INSERT INTO orders (customer_count, status, created_at, updated_at) "
                            "VALUES (2, 'open', :now, :now) RETURNING id"
                        ),
                        {"now": now},
                    )
                ).scalar_one()
                lines = {}
                for name, menu_id in menu.items():
                    lines[name] = (
                        await conn.execute(
                            text(
                                "INSERT INTO order_items (order_id, menu_item_id, name, "
                                "unit_price, quantity, created_at) VALUES (:order, :menu, "
                                ":name, 5, 1, :now) RETURNING id"
                            ),
                            {"order": order, "menu": menu_id, "name": name, "now": now},
                        )
                    ).scalar_one()

                def items(*names: str) -> str:
                    return json.dumps(
                        [{"order_item_id": lines[n], "name": n, "quantity": 1} for n in names]
                    )

                for label, names in (
                    ("drinks", ("Wine", "Beer")),
                    ("mixed", ("Wine", "Steak")),
                    ("food", ("Steak",)),
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO kitchen_tickets (order_id, table_number, items, status, "
                            "created_at, updated_at) VALUES (:order, NULL, :items, :label, "
                            ":now, :now)"
                        ),
                        {"order": order, "items": items(*names), "now": now,
                         "label": "ready" if label == "drinks" else "pending"},
                    )  # fmt: skip
            await asyncio.to_thread(command.upgrade, config, "head")
            query = text("SELECT station, advanced_at FROM kitchen_tickets ORDER BY id")
            async with engine.connect() as conn:
                rows = [tuple(r) for r in (await conn.execute(query)).all()]
                assert rows == [("bar", None), ("kitchen", None), ("kitchen", None)]
                bar = text("SELECT bar_categories FROM restaurant_settings")
                stored = (await conn.execute(bar)).scalar_one()
                assert (json.loads(stored) if isinstance(stored, str) else stored) == ["drinks"]
            with pytest.raises(IntegrityError, match=r"(?i)check|constraint"):
                async with engine.begin() as conn:
                    await conn.execute(text("UPDATE kitchen_tickets SET station = 'grill'"))
            await asyncio.to_thread(command.downgrade, config, "0014")
            async with engine.connect() as conn:
                count = await conn.execute(text("SELECT count(*) FROM kitchen_tickets"))
                assert count.scalar_one() == 3
            await asyncio.to_thread(command.upgrade, config, "head")
            async with engine.connect() as conn:
                again = text("SELECT station FROM kitchen_tickets ORDER BY id")
                assert list((await conn.execute(again)).scalars()) == ["bar", "kitchen", "kitchen"]
        finally:
            await engine.dispose()


async def test_0014_gives_each_customers_bookings_their_guest_and_round_trips(
    scratch_url: AbstractAsyncContextManager[str],
) -> None:
    """0014 makes a guest record for each customer who has booked, from the account, and
    gives their bookings that guest (online); bookings staff made on their own accounts
    were phone calls for someone unknown: no guest (so no e-mail to the staff member).
    Down to 0013 and up again keeps the bookings."""
    async with scratch_url as url:
        config = alembic_config(url)
        await asyncio.to_thread(command.upgrade, config, "0013")
        engine = create_engine(url)
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        add_user = text(
            "INSERT INTO users (email, name, hashed_password, role, is_active, created_at) "
            "VALUES (:email, :name, 'x', :role, true, :now) RETURNING id"
        )
        add_booking = text(
            "INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, status, "
            "created_at, updated_at) VALUES (:user, :table, 2, :starts, :ends, 'confirmed', "
            ":now, :now) RETURNING id"
        )
        try:
            async with engine.begin() as conn:
                ids = {}
                for email, name, role in (("ada@example.com", "Ada", "customer"),
                                          ("sam@example.com", "Sam", "staff"),
                                          ("idle@example.com", "Idle", "customer")):  # fmt: skip
                    params = {"email": email, "name": name, "role": role, "now": now}
                    ids[name] = (await conn.execute(add_user, params)).scalar_one()
                booked = {}
                for name, table in (("Ada", 1), ("Sam", 2)):
                    params = {"user": ids[name], "table": table, "now": now,
                              "starts": now + timedelta(days=400),
                              "ends": now + timedelta(days=400, minutes=90)}  # fmt: skip
                    booked[name] = (await conn.execute(add_booking, params)).scalar_one()
            await asyncio.to_thread(command.upgrade, config, "0014")
            async with engine.connect() as conn:
                guests = (await conn.execute(text(
                    "SELECT id, name, email, user_id FROM guests ORDER BY id"
                ))).all()  # fmt: skip
                rows = dict(
                    (r.id, (r.guest_id, r.source))
                    for r in await conn.execute(text("SELECT id, guest_id, source FROM bookings"))
                )
            assert [(g.name, g.email, g.user_id) for g in guests] == [
                ("Ada", "ada@example.com", ids["Ada"])  # only a customer who has booked
            ]
            assert rows[booked["Ada"]] == (guests[0].id, "online")
            assert rows[booked["Sam"]] == (None, "phone")
            await asyncio.to_thread(command.downgrade, config, "0013")
            await asyncio.to_thread(command.upgrade, config, "head")
            async with engine.connect() as conn:
                count = await conn.execute(text("SELECT count(*) FROM bookings"))
                assert count.scalar_one() == 2
        finally:
            await engine.dispose()


async def test_0016_places_every_table_on_a_grid_and_round_trips(
    scratch_url: AbstractAsyncContextManager[str],
) -> None:
    """0016 gives every table a footprint for its seats and a place five to a row in
    order of number (a table an admin added too); down to 0015 and up again keeps the
    tables and lays them out the same way."""
    async with scratch_url as url:
        config = alembic_config(url)
        await asyncio.to_thread(command.upgrade, config, "0015")
        engine = create_engine(url)
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        query = text(
            "SELECT table_number, pos_x, pos_y, width, height, shape, rotation FROM tables "
            "ORDER BY table_number"
        )
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO tables (table_number, capacity, area, bookable, created_at) "
                        "VALUES (30, 50, 'hall', true, :now)"
                    ),
                    {"now": now},
                )
            await asyncio.to_thread(command.upgrade, config, "0016")
            async with engine.connect() as conn:
                rows = [tuple(r) for r in (await conn.execute(query)).all()]
            assert [r[0] for r in rows] == [*range(1, 21), 30]
            widths = {number: width for number, _, _, width, *_ in rows}
            assert widths[1] == 2 and widths[6] == 3 and widths[20] == 6 and widths[30] == 25
            cell = 25 + 2  # the widest table and a gap
            for index, (_n, x, y, width, height, shape, rotation) in enumerate(rows):
                assert (x, y) == (2 + (index % 5) * cell, 2 + (index // 5) * 4)
                assert height == 2 and rotation == 0
                assert shape == ("square" if width == 2 else "rect")
            with pytest.raises(IntegrityError, match=r"(?i)check|constraint"):
                async with engine.begin() as conn:
                    await conn.execute(text("UPDATE tables SET pos_y = NULL WHERE id = 1"))
            await asyncio.to_thread(command.downgrade, config, "0015")
            async with engine.connect() as conn:
                count = await conn.execute(text("SELECT count(*) FROM tables"))
                assert count.scalar_one() == 21
            await asyncio.to_thread(command.upgrade, config, "head")
            async with engine.connect() as conn:
                again = [tuple(r) for r in (await conn.execute(query)).all()]
            assert again == rows
        finally:
            await engine.dispose()
