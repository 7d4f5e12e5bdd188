"""The waitlist's periodic pass (in the worker, beside housekeeping): offers that lapsed
become expired and their tables go to the next entry; entries whose window has passed
expire; and whatever came free without an offer pass (a hold that lapsed, a table made
bookable) is offered. Correctness never waits for it: a lapsed hold frees its tables the
instant it expires, and every offer pass of a date lapses that date's offers first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import date, datetime

from sqlalchemy import select

from app.background import pause
from app.config import Settings
from app.db.base import utcnow
from app.db.engine import Database
from app.waitlist import offers
from app.waitlist.models import EntryKind, WaitlistEntry

logger = logging.getLogger("app.waitlist")


async def sweep_once(database: Database, settings: Settings, now: datetime) -> int:
    """One pass over every date with open entries, one transaction per date. Returns how
    many offers were made."""
    async with database.reader() as session:
        days: list[date] = list(
            await session.scalars(
                select(WaitlistEntry.day)
                .where(
                    WaitlistEntry.status.in_(offers.OPEN),
                    WaitlistEntry.kind == EntryKind.booking,
                )
                .distinct()
                .order_by(WaitlistEntry.day)
            )
        )
    made = 0
    for day in days:
        async with AsyncExitStack() as stack:
            if database.write_queue is not None:  # SQLite: queue with the requests' writes
                await stack.enter_async_context(database.write_queue)
            session = await stack.enter_async_context(database.writer())
            async with session.begin():
                made += await offers.offer_day(session, day, settings=settings, now=now)
        database.wrote()
    return made


async def run(
    database: Database,
    settings: Settings,
    stop: asyncio.Event,
    *,
    every: float = 60,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    while not stop.is_set():
        try:
            made = await sweep_once(database, settings, clock())
            if made:
                logger.info("waitlist offers made", extra={"fields": {"offers": made}})
        except Exception:
            logger.exception("waitlist sweep failed")
        await pause(stop, every)
