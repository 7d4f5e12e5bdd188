from app.errors import Conflict, NotFound


class TableNotFound(NotFound):
    default_message = "Table not found"


class TableNumberTaken(Conflict):
    default_message = "Another table already has this table_number"


class TableHasBookings(Conflict):
    default_message = "The table has future confirmed bookings"
