from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class OrderStatus(enum.StrEnum):
    open = "open"
    closed = "closed"
    cancelled = "cancelled"


class Order(Base):
    """A party's order: seated at a table (or a merged group), later with items and a bill."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("customer_count BETWEEN 1 AND 200", name="customer_count_range"),
        Index("ix_orders_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="SET NULL"), nullable=True, index=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    customer_count: Mapped[int] = mapped_column(Integer)
    special_requests: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus, native_enum=False, length=16, create_constraint=True, name="order_status"
        ),
        default=OrderStatus.open,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
