"""Every model, imported in one place so Alembic sees the whole schema."""

from app.auth.models import RefreshToken, User
from app.bookings.models import Booking, IdempotencyKey
from app.db import Base
from app.floor.models import RestaurantTable, SeatAssignment
from app.orders.models import Order
from app.venue.models import RestaurantSettings

__all__ = [
    "Base",
    "Booking",
    "IdempotencyKey",
    "Order",
    "RefreshToken",
    "RestaurantSettings",
    "RestaurantTable",
    "SeatAssignment",
    "User",
]
