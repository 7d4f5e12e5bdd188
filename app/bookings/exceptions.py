from app.errors import Conflict, InvalidInput, NotFound


class BookingNotFound(NotFound):
    default_message = "Booking not found"


class NoTableAvailable(Conflict):
    default_message = "No table is free for that party at that time"


class TableUnavailable(Conflict):
    default_message = "That table is already booked at that time"


class BookingNotCancellable(Conflict):
    default_message = "This booking can no longer be cancelled"


class TableNotBookable(InvalidInput):
    default_message = "That table cannot take this booking"


class IdempotencyKeyReused(InvalidInput):
    default_message = "This Idempotency-Key was already used with a different request body"


class BookingNotChangeable(Conflict):
    default_message = "This booking can no longer be changed"
