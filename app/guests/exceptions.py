from app.errors import Conflict, Forbidden, InvalidInput, NotFound


class InvalidPhone(InvalidInput):
    default_message = "Not a valid phone number"


class GuestNotFound(NotFound):
    default_message = "Guest not found"


class GuestEmailTaken(Conflict):
    default_message = "Another guest record has that e-mail address"


class GuestLinkedToAccount(Conflict):
    default_message = "This guest's e-mail address is their account's; only they can change it"


class BookingForOthersForbidden(Forbidden):
    default_message = "Only staff can book for someone else or give a booking's source"
