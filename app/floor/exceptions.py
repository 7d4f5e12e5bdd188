from app.errors import Conflict, InvalidInput, NotFound


class TableNotFound(NotFound):
    default_message = "Table not found"


class TableNumberTaken(Conflict):
    default_message = "Another table already has this table_number"


class TableHasBookings(Conflict):
    default_message = "The table has future confirmed bookings"


class TableBusy(Conflict):
    """The table's state does not allow the action (occupied, cleaning, held, merged...)."""

    default_message = "The table cannot do that in its current state"


class SeatTaken(Conflict):
    default_message = "That seat is already taken"


class InvalidSeat(InvalidInput):
    default_message = "No such seat at this table"


class InvalidMerge(InvalidInput):
    default_message = "A table cannot be merged with itself"


class CombinationNotFound(NotFound):
    default_message = "Combination not found"


class CombinationExists(Conflict):
    default_message = "These tables are already a combination"


class InvalidCombination(InvalidInput):
    default_message = "A combination joins two or more existing tables"
