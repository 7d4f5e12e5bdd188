"""Server-sent events for kitchen screens, read from the kitchen_events table (written
with each ticket change, app.kitchen.service) through app.streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import Request
from sse_starlette import ServerSentEvent

from app import streams
from app.db.engine import Database
from app.kitchen.models import KitchenEvent, Station


def events(
    request: Request,
    database: Database,
    *,
    after: int,
    poll: float = 0.5,
    station: Station | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Events after `after`; with a station, only those of its tickets (the ticket in
    each event's data says where it is made)."""

    def render(row: KitchenEvent) -> ServerSentEvent | None:
        if station is not None and row.payload.get("station") != station.value:
            return None
        return ServerSentEvent(id=str(row.id), event=row.type, data=json.dumps(row.payload))

    return streams.follow(request, database, KitchenEvent, after=after, poll=poll, render=render)
