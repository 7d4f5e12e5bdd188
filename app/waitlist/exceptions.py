from __future__ import annotations

from app.errors import AppError, Conflict, InvalidInput, NotFound


class EntryNotFound(NotFound):
    default_message = "Waitlist entry not found"


class AlreadyWaiting(Conflict):
    default_message = "You are already on the waitlist for that date"


class TableFree(Conflict):
    """A table is free in the window asked for: book it rather than wait. Carries
    `free_times` (the window's free start times)."""

    default_message = "A table is free in that window: book it instead of waiting"


class WindowNotBookable(InvalidInput):
    default_message = "No bookable time in that window"


class EntryClosed(Conflict):
    default_message = "This waitlist entry is no longer waiting"


class NothingToOffer(Conflict):
    default_message = "No table that fits is free in the entry's window"


class OfferNotFound(NotFound):
    default_message = "Offer not found"


class OfferGone(AppError):
    status_code = 410
    default_message = "This offer is no longer open: the table has gone to the next guest"


class OfferTaken(Conflict):
    default_message = "This offer was already confirmed"
