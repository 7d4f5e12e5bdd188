from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from app.money import Money


class DayReport(BaseModel):
    """One local day's figures, counted from the database when asked (nothing kept).
    A booking counts on the day it starts; an order on the day it was opened (seated
    covers) or closed (orders closed, revenue)."""

    date: date
    timezone: str = Field(description="The restaurant's time zone: the day's bounds")
    covers_booked: int = Field(
        description="Guests booked for the day: the party sizes of its bookings not "
        "cancelled (confirmed, seated, completed or no-show)"
    )
    bookings: int = Field(description="The day's bookings not cancelled")
    seated_covers: int = Field(
        description="Guests who sat down: the parties of orders opened that day and not "
        "cancelled, booked parties (seating a booking opens its order) and walk-ins alike"
    )
    walk_in_covers: int = Field(
        description="Of seated_covers, the parties without a booking or with one staff "
        "took as a walk-in"
    )
    no_shows: int = Field(description="The day's bookings marked no-show")
    no_show_covers: int = Field(description="Their party sizes")
    cancellations: int = Field(description="The day's bookings cancelled (whenever that was)")
    orders_closed: int = Field(description="Orders closed (paid) that day")
    revenue: Money = Field(
        description="The totals of the orders closed that day (items, service charge and "
        "tax, as each bill was closed)"
    )
