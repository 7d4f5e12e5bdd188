from app.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    default_message = "Order not found"


class OrderNotOpen(Conflict):
    default_message = "The order is not open"
