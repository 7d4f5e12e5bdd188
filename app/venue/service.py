from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.statements import Conn, Query, session_conn
from app.errors import NotFound
from app.guests.contact import e164
from app.venue import contact
from app.venue.calendar import Venue
from app.venue.models import RestaurantSettings
from app.venue.schemas import RestaurantRules, RestaurantSettingsOut, RestaurantSettingsUpdate

SETTINGS_ID = 1


async def get_settings_row(
    session: AsyncSession, *, for_update: bool = False
) -> RestaurantSettings:
    row = await session.get(RestaurantSettings, SETTINGS_ID, with_for_update=for_update)
    if row is None:
        raise _missing()
    return row


def large_party_note(settings: Settings, max_party_size: int, phone: str) -> str:
    """LARGE_PARTY_NOTE, or else who a party larger than the largest booked online
    should call (`phone`: the restaurant's, "" when none)."""
    if note := settings.large_party_note.strip():
        return note
    guests = "guest" if max_party_size == 1 else "guests"
    reach = f"call us on {phone}" if phone else "contact the restaurant"
    return f"For more than {max_party_size} {guests}, please {reach}."


def settings_out(row: RestaurantSettings, settings: Settings) -> RestaurantSettingsOut:
    """The row's rules and what the guest pages show: the contact details in effect
    (the row's, else the environment's; null when neither is set) and the colour."""
    rules = RestaurantRules.model_validate(row)
    reach = contact.effective(settings, contact.stored_of(row))
    return RestaurantSettingsOut(
        **dict(rules),
        phone=reach.phone or None,
        email=reach.email or None,
        address=reach.address or None,
        website=reach.website or None,
        brand_color=settings.brand_color,
        large_party_note=large_party_note(settings, rules.max_party_size, reach.phone),
    )


async def describe(session: AsyncSession, settings: Settings) -> RestaurantSettingsOut:
    """GET /restaurant."""
    return settings_out(await get_settings_row(session), settings)


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


# Fields whose change can move or close a booked slot (app.bookings.stranding checks them).
CALENDAR_FIELDS = frozenset({"timezone", "opening_hours", "slot_minutes", "closed_dates"})


@dataclass
class PendingUpdate:
    """A settings change read and checked but not yet written: the locked row, the
    values to set, and the calendar before and after."""

    row: RestaurantSettings
    changes: dict[str, Any]
    before: Venue
    after: Venue

    @property
    def moves_the_calendar(self) -> bool:
        return any(
            getattr(self.row, key) != value
            for key, value in self.changes.items()
            if key in CALENDAR_FIELDS
        )


def _contact_changes(data: RestaurantSettingsUpdate, phone_region: str) -> dict[str, Any]:
    """The contact details to store: the phone in E.164 (a 422 naming the field when it
    cannot be dialled), and null for a detail given empty (the environment's again)."""
    given = data.model_dump(include=set(contact.FIELDS), exclude_unset=True)
    out: dict[str, str | None] = {key: value.strip() or None for key, value in given.items()}
    if phone := out.get("phone"):
        out["phone"] = e164(phone, phone_region, ("body", "phone"))
    return out


async def prepare_update(
    session: AsyncSession,
    data: RestaurantSettingsUpdate,
    *,
    merge_hours: bool = False,
    phone_region: str,
) -> PendingUpdate:
    """Lock the row and work out the change without writing it. With `merge_hours`
    (PATCH) `opening_hours` changes only the weekdays it names: a weekday left out keeps
    its hours, one given an empty list is closed. Without it (PUT) it is the whole week.
    A phone number without +country code is read in `phone_region`."""
    reach = _contact_changes(data, phone_region)  # before the lock: a 422 waits for nothing
    row = await get_settings_row(session, for_update=True)
    changes = {**data.model_dump(exclude_unset=True, mode="json"), **reach}
    for key in ("service_charge_percent", "tax_percent"):
        if key in changes:
            changes[key] = getattr(data, key)
    if merge_hours and "opening_hours" in changes:
        changes["opening_hours"] = {**row.opening_hours, **changes["opening_hours"]}
    current = {key: getattr(row, key) for key in _TABLE.c.keys()}
    after = Venue.from_settings(SimpleNamespace(**{**current, **changes}))
    return PendingUpdate(row, changes, Venue.from_settings(row), after)


async def apply_update(session: AsyncSession, pending: PendingUpdate) -> RestaurantSettings:
    for key, value in pending.changes.items():
        setattr(pending.row, key, value)
    await session.flush()
    clear_cache()
    return pending.row


async def update_settings(
    session: AsyncSession,
    data: RestaurantSettingsUpdate,
    *,
    merge_hours: bool = False,
    phone_region: str,
) -> RestaurantSettings:
    """Change the settings as asked, whatever bookings depend on them (the routes go
    through app.venue.changes, which checks that first)."""
    pending = await prepare_update(
        session, data, merge_hours=merge_hours, phone_region=phone_region
    )
    return await apply_update(session, pending)
