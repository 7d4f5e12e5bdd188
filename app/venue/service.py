from __future__ import annotations

import time
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.statements import Conn, Query, session_conn
from app.errors import NotFound
from app.venue.calendar import Venue
from app.venue.models import RestaurantSettings
from app.venue.schemas import RestaurantSettingsUpdate

SETTINGS_ID = 1


async def get_settings_row(
    session: AsyncSession, *, for_update: bool = False
) -> RestaurantSettings:
    row = await session.get(RestaurantSettings, SETTINGS_ID, with_for_update=for_update)
    if row is None:
        raise _missing()
    return row


def _missing() -> NotFound:
    # The first migration creates the row; only a hand-emptied table lacks it.
    return NotFound("Restaurant settings are missing; run `restaurant migrate`")


# The settings are read on every availability check and booking; keep them for a moment.
# An edit is seen at once by the process that made it and within CACHE_SECONDS elsewhere.
# While the row is unchanged (same updated_at) the same Venue is kept, with its slot grids.
CACHE_SECONDS = 1.0
_cache: dict[str, tuple[float, datetime, Venue]] = {}
_TABLE = RestaurantSettings.__table__
_ROW = Query(select(_TABLE).where(_TABLE.c.id == SETTINGS_ID))


def clear_cache() -> None:
    _cache.clear()


_refreshing: set[str] = set()


async def venue_for(session: AsyncSession) -> Venue:
    """get_venue for a route that holds a session."""
    return await get_venue(await session_conn(session))


async def get_venue(conn: Conn) -> Venue:
    key = conn.cache_key
    cached = _cache.get(key)
    now = time.monotonic()
    if cached is not None and (cached[0] > now or key in _refreshing):
        # While one request reads the row again, the others go on with the snapshot
        # they have rather than all reading it at once.
        return cached[2]
    _refreshing.add(key)
    try:
        row = await conn.fetchrow(_ROW)
    finally:
        _refreshing.discard(key)
    if row is None:
        raise _missing()
    values = SimpleNamespace(**dict(zip(_TABLE.c.keys(), row, strict=True)))
    if cached is not None and cached[1] == values.updated_at:
        venue = cached[2]
    else:
        venue = Venue.from_settings(values)
    _cache[key] = (now + CACHE_SECONDS, values.updated_at, venue)
    return venue


async def update_settings(
    session: AsyncSession, data: RestaurantSettingsUpdate
) -> RestaurantSettings:
    row = await get_settings_row(session, for_update=True)
    changes = data.model_dump(exclude_unset=True, mode="json")
    for key in ("service_charge_percent", "tax_percent"):
        if key in changes:
            changes[key] = getattr(data, key)
    for key, value in changes.items():
        setattr(row, key, value)
    await session.flush()
    clear_cache()
    return row
