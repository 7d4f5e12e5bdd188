from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class TableState(enum.StrEnum):
    """What staff set. `reserved` is never stored: it is derived from bookings."""

    available = "available"
    occupied = "occupied"
    cleaning = "cleaning"


class RestaurantTable(Base):
    __tablename__ = "tables"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 50", name="capacity_range"),
        # Occupied exactly when an order sits at the table.
        CheckConstraint(
            "(state = 'occupied' AND current_order_id IS NOT NULL) OR "
            "(state <> 'occupied' AND current_order_id IS NULL)",
            name="occupied_has_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_number: Mapped[int] = mapped_column(Integer, unique=True)
    capacity: Mapped[int] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(40), default="main")
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[TableState] = mapped_column(
        Enum(TableState, native_enum=False, length=16, create_constraint=True, name="table_state"),
        default=TableState.available,
        server_default=TableState.available.value,
    )
    current_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL", use_alter=True), nullable=True, index=True
    )
    occupied_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Tables merged for one party share a group id: the id of the group's first table.
    merge_group: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class SeatAssignment(Base):
    """A taken seat. Free seats have no row; the unique key makes double-seating impossible."""

    __tablename__ = "seat_assignments"
    __table_args__ = (
        UniqueConstraint("table_id", "seat_number", name="uq_seat_assignments_table_seat"),
        CheckConstraint("seat_number >= 1", name="seat_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"))
    seat_number: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=True, index=True
    )
