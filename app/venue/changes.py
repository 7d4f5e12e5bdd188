"""Changing the restaurant's settings without stranding a booking: a change that would
leave confirmed bookings in a closed or moved slot is refused (409, listing them) unless
the admin asks to cancel them (app.bookings.stranding)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings import stranding
from app.bookings.schemas import StrandOutcome
from app.config import Settings
from app.venue import service as venue_service
from app.venue.schemas import RestaurantSettingsChanged, RestaurantSettingsUpdate


def _when(pending: venue_service.PendingUpdate) -> str:
    added = set(pending.after.closed_dates) - set(pending.before.closed_dates)
    if added and set(pending.changes) == {"closed_dates"}:
        days = ", ".join(sorted(day.isoformat() for day in added))
        return f"Closing {days}"
    return "This change of the restaurant's settings"


async def change_settings(
    session: AsyncSession,
    data: RestaurantSettingsUpdate,
    *,
    merge_hours: bool,
    cancel_affected: bool,
    now: datetime,
    settings: Settings,
) -> RestaurantSettingsChanged:
    """PUT (merge_hours=False) and PATCH /restaurant: check what the change strands,
    settle it (refuse, or cancel and tell each guest), then write the change."""
    pending = await venue_service.prepare_update(
        session, data, merge_hours=merge_hours, phone_region=settings.phone_region
    )
    outcome = StrandOutcome()
    if pending.moves_the_calendar:
        stranded = await stranding.for_settings(session, pending.before, pending.after, now)
        outcome = await stranding.settle(
            session, stranded, venue=pending.before, now=now, handle=cancel_affected,
            what=_when(pending), settings=settings,
        )  # fmt: skip
    row = await venue_service.apply_update(session, pending)
    saved = venue_service.settings_out(row, settings)
    return RestaurantSettingsChanged(**dict(saved), **dict(outcome))
