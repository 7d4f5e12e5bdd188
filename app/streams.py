"""Server-sent events read from an event table: the kitchen's (kitchen_events) and the
floor's (floor_events).

Each row is written in the transaction of the change it reports, so every web worker's
streams see every change, and a screen that lost its connection resumes after the last
event it saw (`Last-Event-ID`, which EventSource sends by itself, or `after`). A stream
checks for new rows every STREAM_POLL_SECONDS with one query on the primary key; the
request's own session is given back before the stream starts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Header, Query, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.db.base import EventRow
from app.db.engine import Database
from app.deps import MAX_ID

# Where a stream's route resumes: the header EventSource sends on reconnecting, or a
# query parameter for a client that keeps its own place.
LastEventId = Annotated[str | None, Header()]
ResumeAfter = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="Resume after this event id")
]

# Rows whose ids were taken before `last` but committed after it are still picked up:
# each poll looks back this many ids and skips those already sent.
LOOK_BACK = 50
BATCH = 200
PING_SECONDS = 15


Row = TypeVar("Row", bound=EventRow)


async def latest_id(session: AsyncSession, model: type[EventRow]) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)


async def resume_point(
    session: AsyncSession, model: type[EventRow], *, after: int | None, last_event_id: str | None
) -> int:
    """Where a stream starts: after `after`, else after `Last-Event-ID`, else after the
    newest event now (on the request's session, which holds its connection until the
    route returns: a second one here could wait for a free connection while holding one)."""
    if after is not None:
        return after
    if last_event_id and last_event_id.isdigit():
        return min(int(last_event_id), MAX_ID)
    return await latest_id(session, model)


async def follow(
    request: Request,
    database: Database,
    model: type[Row],
    *,
    after: int,
    poll: float,
    render: Callable[[Row], ServerSentEvent | None],
) -> AsyncIterator[ServerSentEvent]:
    """The events after `after`, in id order, until the client goes away; `render` turns a
    row into its event (None: not for this stream)."""
    sent: deque[int] = deque(maxlen=LOOK_BACK * 4)
    last = after
    while not await request.is_disconnected():
        async with database.reader() as session:
            rows = (
                await session.scalars(
                    select(model)
                    .where(model.id > max(after, last - LOOK_BACK))
                    .order_by(model.id)
                    .limit(BATCH)
                )
            ).all()
        for row in rows:
            if row.id in sent:
                continue
            sent.append(row.id)
            last = max(last, row.id)
            event = render(row)
            if event is not None:
                yield event
        await asyncio.sleep(poll)


def respond(events: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """The stream's answer, with a keep-alive comment every PING_SECONDS."""
    return EventSourceResponse(events, ping=PING_SECONDS)
