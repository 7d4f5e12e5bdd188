"""Purging rows that only matter for a while (app/housekeeping.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from app.auth.models import Role
from app.floor.models import FloorEvent
from app.housekeeping import purge
from app.kitchen.models import KitchenEvent
from tests.conftest import TestDatabase, UserFactory


async def test_purge_removes_only_what_has_expired(
    db: TestDatabase, make_user: UserFactory
) -> None:
    await make_user(Role.customer)
    now = datetime.now(UTC)
    async with db.database.writer() as session, session.begin():
        for age in (timedelta(days=3), timedelta(hours=1)):
            session.add(
                KitchenEvent(ticket_id=1, type="ticket_created", payload={}, created_at=now - age)
            )
        # Resetting the test database rewrote the seeded tables, which the triggers
        # recorded: cleared, so that only these two floor events are left to judge.
        await session.execute(delete(FloorEvent))
        for age in (timedelta(days=3), timedelta(hours=1)):
            session.add(
                FloorEvent(kind="table", subject_id=1, change="updated", created_at=now - age)
            )
    counts = await purge(db.database, now)
    assert counts["kitchen_events"] == 1 and counts["floor_events"] == 1
    async with db.database.reader() as session:
        for model in (KitchenEvent, FloorEvent):
            left = await session.scalar(select(func.count()).select_from(model))
            assert left == 1, model
    again = await purge(db.database, now)
    assert again["kitchen_events"] == again["floor_events"] == 0
