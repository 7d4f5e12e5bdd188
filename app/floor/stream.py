"""Server-sent events for the host stand, read from the floor_events table (written by
the database's triggers whenever a table or a booking changes) through app.streams.

Each event says what changed, not how: `table_changed` or `booking_changed`, with data
{"kind": "table"|"booking", "id", "change": "created"|"updated"|"deleted", "at": when the
database wrote it}. A screen fetches what it shows again (GET /api/tables, GET
/bookings?date=...); one action can send several events (seating a merged group changes
each of its tables)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import Request
from sse_starlette import ServerSentEvent

from app import streams
from app.db.engine import Database
from app.floor.models import FloorEvent


def render(row: FloorEvent) -> ServerSentEvent:
    data = {"kind": row.kind, "id": row.subject_id, "change": row.change,
            "at": row.created_at.isoformat()}  # fmt: skip
    return ServerSentEvent(id=str(row.id), event=f"{row.kind}_changed", data=json.dumps(data))


def events(
    request: Request, database: Database, *, after: int, poll: float
) -> AsyncIterator[ServerSentEvent]:
    return streams.follow(request, database, FloorEvent, after=after, poll=poll, render=render)
