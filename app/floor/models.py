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

from app.db.base import Base, EventRow, UTCDateTime, utcnow


class TableState(enum.StrEnum):
    """What staff set. `reserved` is never stored: it is derived from bookings."""

    available = "available"
    occupied = "occupied"
    cleaning = "cleaning"


class TableChannel(enum.StrEnum):
    """Who may book a table ahead: guests online (and staff), staff only (`in_house`,
    e.g. kept for regulars and phone bookings), or nobody (`walk_in`: seated only
    through the floor)."""

    online = "online"
    in_house = "in_house"
    walk_in = "walk_in"


# The channels a booking may use: a guest's own (online) and staff's (online, in_house).
GUEST_CHANNELS = frozenset({TableChannel.online})
STAFF_CHANNELS = frozenset({TableChannel.online, TableChannel.in_house})


def channels_for(staff: bool) -> frozenset[TableChannel]:
    return STAFF_CHANNELS if staff else GUEST_CHANNELS


class TableShape(enum.StrEnum):
    """How the floor plan draws a table."""

    round = "round"
    square = "square"
    rect = "rect"


# The floor plan's grid: a table's corner at (pos_x, pos_y), its size width x height,
# all in grid units; the client scales the grid to the screen.
GRID_MAX = 1000
SIZE_MAX = 200


def default_size(capacity: int) -> tuple[int, int]:
    """A table's footprint for its seats when none is given: 2x2 up to four seats, then
    one unit wider for each two seats more (6: 3x2, 8: 4x2, 12: 6x2)."""
    return max(2, (capacity + 1) // 2), 2


class RestaurantTable(Base):
    __tablename__ = "tables"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 50", name="capacity_range"),
        # Placed (both coordinates) or not yet (neither), on the grid.
        CheckConstraint("(pos_x IS NULL) = (pos_y IS NULL)", name="position_whole"),
        CheckConstraint(
            f"pos_x BETWEEN 0 AND {GRID_MAX} AND pos_y BETWEEN 0 AND {GRID_MAX}",
            name="position_range",
        ),
        CheckConstraint(
            f"width BETWEEN 1 AND {SIZE_MAX} AND height BETWEEN 1 AND {SIZE_MAX}",
            name="size_range",
        ),
        CheckConstraint("rotation BETWEEN 0 AND 359", name="rotation_range"),
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
    channel: Mapped[TableChannel] = mapped_column(
        Enum(
            TableChannel, native_enum=False, length=16, create_constraint=True,
            name="table_channel",
        ),
        default=TableChannel.online,
        server_default=TableChannel.online.value,
    )  # fmt: skip
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
    # Where the floor plan draws it (null: not placed yet), its size, shape and rotation.
    pos_x: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pos_y: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    height: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    shape: Mapped[TableShape] = mapped_column(
        Enum(TableShape, native_enum=False, length=16, create_constraint=True, name="table_shape"),
        default=TableShape.square,
        server_default=TableShape.square.value,
    )
    rotation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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


class FloorEvent(EventRow, Base):
    """A table or a booking was created, changed or deleted. Written by the database's
    own triggers (migration 0017) in the transaction of the change, whoever makes it (the
    ORM, the booking function book_table, a script), so the floor's stream
    (GET /api/floor/stream) misses nothing and a reconnect resumes by id. A screen
    fetches what it shows again; the event only says what changed."""

    __tablename__ = "floor_events"
    __table_args__ = (
        CheckConstraint("kind IN ('table', 'booking')", name="kind"),
        CheckConstraint("change IN ('created', 'updated', 'deleted')", name="change"),
        # SQLite: never hand out an id again (a screen resumes after the last id it saw).
        {"sqlite_autoincrement": True},
    )

    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class TableCombination(Base):
    """Tables an admin lets one large party share (e.g. 11+12), with how many the joined
    tables seat. Explicit: only the combinations defined here are ever offered."""

    __tablename__ = "table_combinations"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 2 AND 200", name="capacity_range"),
        # The member ids, sorted and comma-joined: one combination per set of tables.
        UniqueConstraint("members_key", name="uq_table_combinations_members_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    members_key: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TableCombinationMember(Base):
    __tablename__ = "table_combination_members"

    combination_id: Mapped[int] = mapped_column(
        ForeignKey("table_combinations.id", ondelete="CASCADE"), primary_key=True
    )
    table_id: Mapped[int] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), primary_key=True, index=True
    )
