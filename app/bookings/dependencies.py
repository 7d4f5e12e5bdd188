"""The two hot routes' dependencies: one each.

FastAPI spends about 15 microseconds of CPU solving each dependency on these machines
(measured in-process), whatever the dependency does. The availability check and POST
/bookings run at hundreds to thousands a second, so each takes one dependency that reads
the app's state itself, instead of the five to eight small ones (settings, clock,
limiter, connection, token, ...) the other routes compose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from app.bookings.daycache import ChangePublisher, DayCache
from app.db import Conn, Database, LazyConn
from app.deps import oauth2_scheme, token_user_id
from app.ratelimit import client_address


@dataclass(frozen=True, slots=True)
class AvailabilityContext:
    conn: Conn  # taken from the pool only if the check runs a statement
    days: DayCache
    now: datetime


async def availability_context(request: Request) -> AsyncIterator[AvailabilityContext]:
    """Counted against the availability limit per client address (429 when spent)."""
    state = request.app.state
    await state.limiter.hit("availability", client_address(request))
    conn = LazyConn(state.db)
    try:
        yield AvailabilityContext(conn, state.day_cache, state.clock())
    except BaseException as exc:
        await conn.release(exc)  # a broken connection is invalidated, not pooled
        raise
    await conn.release()


# scope="function": the connection goes back before the response is sent.
Checking = Annotated[AvailabilityContext, Depends(availability_context, scope="function")]


@dataclass(frozen=True, slots=True)
class BookingCaller:
    user_id: int
    database: Database
    changes: ChangePublisher | None  # PostgreSQL: announces book_table's bookings
    now: datetime
    reminder_before: timedelta


async def booking_caller(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> BookingCaller:
    """A valid access token (401 otherwise), counted against the booking limit per user
    (429), before any database work."""
    state = request.app.state
    user_id = token_user_id(state.settings, token)
    await state.limiter.hit("booking", str(user_id))
    reminder_before = timedelta(hours=state.settings.reminder_hours)
    return BookingCaller(user_id, state.db, state.changes, state.clock(), reminder_before)


Booker = Annotated[BookingCaller, Depends(booking_caller)]
