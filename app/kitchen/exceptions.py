from app.errors import Conflict, Forbidden, InvalidInput, NotFound


class TicketNotFound(NotFound):
    default_message = "Kitchen ticket not found"


class InvalidTransition(Conflict):
    default_message = "Tickets move forward one step at a time"


class TicketInProgress(Conflict):
    default_message = "The ticket is being cooked; it cannot be removed now"


class PendingTicketAdminOnly(Forbidden):
    default_message = "Only an admin can remove a ticket that has not been started"


class NothingToUndo(Conflict):
    default_message = "The ticket has no move to undo"


class ReasonRequired(InvalidInput):
    default_message = (
        "A ticket can be moved back without a reason only within a minute of its move; "
        "give a reason"
    )
