from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow
from app.money import MoneyColumn


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
    payment_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The restaurant's percentages when the order was closed: its bill never changes after.
    service_charge_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    tax_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)


class OrderItem(Base):
    """A line of an order. Name and price are copied from the menu when ordered, so a later
    menu change does not alter an open bill."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 99", name="quantity_range"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    menu_item_id: Mapped[int] = mapped_column(
        ForeignKey("menu_items.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    unit_price: Mapped[Decimal] = mapped_column(MoneyColumn)
    quantity: Mapped[int] = mapped_column(Integer)
    seat_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notes: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
