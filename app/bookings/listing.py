"""Reading bookings in lists: a guest's own, a host's day in order of time, a guest
record's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingOut
from app.bookings.service import guest_out, numbers, other_tables, to_out
from app.floor.models import RestaurantTable
from app.guests import service as guests
from app.guests.models import Guest
from app.venue import service as venue_service
from app.venue.calendar import Venue

NOT_BOOKINGS = (BookingStatus.held, BookingStatus.expired)


async def list_bookings(
    session: AsyncSession,
    *,
    user: User,
    now: datetime,
    on: date | None,
    date_from: date | None,
    date_to: date | None,
    status: BookingStatus | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> tuple[list[BookingOut], int]:
    """One day's bookings (`on`) in order of time; otherwise upcoming first. `q` finds
    them by their guest's name, phone or e-mail."""
    venue = await venue_service.venue_for(session)
    query = (
        select(Booking, RestaurantTable.table_number, Guest)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .outerjoin(Guest, Guest.id == Booking.guest_id)
    )
    # A combination's other tables and holds are not bookings of their own.
    query = query.where(Booking.combined_with.is_(None), Booking.status.not_in(NOT_BOOKINGS))
    if not user.is_staff:
        query = query.where(Booking.user_id == user.id)
    if q and q.strip():
        query = query.where(guests.matching(q))
    if status is not None:
        query = query.where(Booking.status == status)
    start_day, end_day = (on, on) if on else (date_from, date_to)
    if start_day:
        query = query.where(Booking.starts_at >= venue.start_of(start_day))
    if end_day and end_day < date.max:
        query = query.where(Booking.starts_at < venue.start_of(end_day + timedelta(days=1)))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    upcoming = Booking.starts_at >= now
    order = (
        (Booking.starts_at, RestaurantTable.table_number, Booking.id)
        if on is not None
        else (
            case((upcoming, 0), else_=1),
            case((upcoming, Booking.starts_at)).asc(),
            Booking.starts_at.desc(),
            Booking.id,
        )
    )
    rows = (await session.execute(query.order_by(*order).limit(limit).offset(offset))).all()
    return await _outs(session, rows, venue), int(total or 0)


async def guest_bookings(session: AsyncSession, guest_id: int) -> list[BookingOut]:
    """A guest's bookings, latest first (the hundred most recent)."""
    venue = await venue_service.venue_for(session)
    rows = await session.execute(
        select(Booking, RestaurantTable.table_number, Guest)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .join(Guest, Guest.id == Booking.guest_id)
        .where(Booking.guest_id == guest_id, Booking.status.not_in(NOT_BOOKINGS))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
        .limit(100)
    )
    return await _outs(session, rows.all(), venue)


async def _outs(session: AsyncSession, rows: Sequence[Any], venue: Venue) -> list[BookingOut]:
    others = await other_tables(session, [b.id for b, _, _ in rows])
    return [to_out(b, n, venue, guest_out(g), numbers(n, others.get(b.id))) for b, n, g in rows]
