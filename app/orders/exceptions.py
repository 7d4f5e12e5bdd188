from app.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    default_message = "Order not found"


class OrderNotOpen(Conflict):
    default_message = "The order is not open"


class UnservedTickets(Conflict):
    default_message = (
        "The order has kitchen tickets not yet served; serve them, or close it with "
        "cancel_tickets=true"
    )


class SettleBillFirst(Conflict):
    default_message = "Settle the bill first: the order has items not paid"
