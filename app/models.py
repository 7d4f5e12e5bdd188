"""Every model, imported in one place so Alembic sees the whole schema."""

from app.auth.models import RefreshToken, User
from app.bookings.models import Booking, IdempotencyKey
from app.db.base import Base
from app.floor.models import (
    RestaurantTable,
    SeatAssignment,
    TableCombination,
    TableCombinationMember,
)
from app.guests.models import Guest
from app.kitchen.models import KitchenEvent, KitchenTicket
from app.menu.models import MenuItem
from app.notifications.models import OutboxMessage, WorkerHeartbeat
from app.orders.models import Order, OrderItem
from app.venue.models import RestaurantSettings
from app.waitlist.models import WaitlistEntry
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Base",
    "Booking",
    "Guest",
    "IdempotencyKey",
    "KitchenEvent",
    "KitchenTicket",
    "MenuItem",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "RefreshToken",
    "RestaurantSettings",
    "RestaurantTable",
    "SeatAssignment",
    "TableCombination",
    "TableCombinationMember",
    "User",
    "WaitlistEntry",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WorkerHeartbeat",
]
