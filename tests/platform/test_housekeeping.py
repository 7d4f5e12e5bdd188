"""Purging rows that only matter for a while (app/housekeeping.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import Role
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
    counts = await purge(db.database, now)
    assert counts["kitchen_events"] == 1
    async with db.database.reader() as session:
        left = await session.scalar(select(func.count()).select_from(KitchenEvent))
    assert left == 1
    assert (await purge(db.database, now))["kitchen_events"] == 0
