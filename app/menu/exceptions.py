from app.errors import Conflict, InvalidInput, NotFound


class MenuItemNotFound(NotFound):
    default_message = "Menu item not found"


class MenuNameTaken(Conflict):
    default_message = "Another menu item has this name"


class MenuItemsUnavailable(InvalidInput):
    default_message = "Some menu items are unknown or not available"
