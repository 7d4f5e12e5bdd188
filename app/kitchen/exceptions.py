from app.errors import Conflict, Forbidden, NotFound


class TicketNotFound(NotFound):
    default_message = "Kitchen ticket not found"


class InvalidTransition(Conflict):
    default_message = "Tickets move forward one step at a time"


class TicketInProgress(Conflict):
    default_message = "The ticket is being cooked; it cannot be removed now"


class PendingTicketAdminOnly(Forbidden):
    default_message = "Only an admin can remove a ticket that has not been started"
