"""Server-sent events for kitchen screens, read from the kitchen_events table.

Events are written in the same transaction as the ticket change, so every web worker's
streams see every change and a reconnecting screen resumes from Last-Event-ID. The
stream checks for new rows every `poll` seconds with one indexed query.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import ServerSentEvent

from app.db.engine import Database
from app.kitchen.models import KitchenEvent, Station

# Rows whose ids were taken before `last` but committed after it are still picked up:
# each poll looks back this many ids and skips those already sent.
LOOK_BACK = 50


async def latest_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(KitchenEvent.id), 0))) or 0)


async def events(
    request: Request,
    database: Database,
    *,
    after: int,
    poll: float = 0.5,
    station: Station | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Events after `after`; with a station, only those of its tickets (the ticket in
    each event's data says where it is made)."""
    sent: deque[int] = deque(maxlen=LOOK_BACK * 4)
    last = after
    while not await request.is_disconnected():
        async with database.reader() as session:
            rows = (
                await session.scalars(
                    select(KitchenEvent)
                    .where(KitchenEvent.id > max(after, last - LOOK_BACK))
                    .order_by(KitchenEvent.id)
                    .limit(200)
                )
            ).all()
        for row in rows:
            if row.id in sent:
                continue
            sent.append(row.id)
            last = max(last, row.id)
            if station is not None and row.payload.get("station") != station.value:
                continue
            yield ServerSentEvent(id=str(row.id), event=row.type, data=json.dumps(row.payload))
        await asyncio.sleep(poll)
