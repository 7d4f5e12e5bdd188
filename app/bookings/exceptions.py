from app.errors import Conflict, Forbidden, InvalidInput, NotFound


class BookingNotFound(NotFound):
    default_message = "Booking not found"


class NoTableAvailable(Conflict):
    default_message = "No table is free for that party at that time"


class SlotPacedOut(Conflict):
    """The slot's pacing limit of covers is reached (carries `code` paced_out and
    `alternatives`)."""

    default_message = "The kitchen takes no more guests starting at that time"


class PacingOverrideForbidden(Forbidden):
    default_message = "Only staff can book past the pacing limit"


class TableUnavailable(Conflict):
    default_message = "That table is already booked at that time"


class BookingNotCancellable(Conflict):
    default_message = "This booking can no longer be cancelled"


class TableNotBookable(InvalidInput):
    default_message = "That table cannot take this booking"


class IdempotencyKeyReused(InvalidInput):
    default_message = "This Idempotency-Key was already used with a different request body"


class OverlappingBooking(Conflict):
    default_message = "You already have a booking at that time"


class TooManyBookings(Conflict):
    default_message = "You already hold as many upcoming bookings as one guest may"


class BookingsStranded(Conflict):
    """An admin's change would leave bookings in a closed slot or on a table that cannot
    take them; the error carries `affected` (AffectedBooking) and `booking_ids`."""

    default_message = (
        "The change would strand bookings; nothing was changed. Repeat it with "
        "cancel_affected=true to move or cancel them"
    )


class BookingNotChangeable(Conflict):
    default_message = "This booking can no longer be changed"


class BookingNotLive(Conflict):
    default_message = (
        "Only a confirmed or seated booking that has not ended has a manage link or a calendar file"
    )


class HoldNotFound(NotFound):
    default_message = "Hold not found (it may have been booked or released)"


class HoldMismatch(InvalidInput):
    default_message = "The booking's date, time and party size must be the hold's"
