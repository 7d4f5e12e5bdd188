"""floor state and orders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:43:45.020330
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("special_requests", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                "cancelled",
                name="order_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "customer_count BETWEEN 1 AND 200", name=op.f("ck_orders_customer_count_range")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_orders_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["tables.id"], name=op.f("fk_orders_table_id_tables"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_orders_booking_id")),
    )
    op.create_index("ix_orders_status_created_at", "orders", ["status", "created_at"], unique=False)
    op.create_index(op.f("ix_orders_table_id"), "orders", ["table_id"], unique=False)
    op.create_table(
        "seat_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("seat_number", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "seat_number >= 1", name=op.f("ck_seat_assignments_seat_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_seat_assignments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["tables.id"],
            name=op.f("fk_seat_assignments_table_id_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_assignments")),
        sa.UniqueConstraint("table_id", "seat_number", name="uq_seat_assignments_table_seat"),
    )
    op.create_index(
        op.f("ix_seat_assignments_order_id"), "seat_assignments", ["order_id"], unique=False
    )
    with op.batch_alter_table("tables") as batch:
        batch.add_column(
            sa.Column(
                "state",
                sa.Enum(
                    "available",
                    "occupied",
                    "cleaning",
                    name="table_state",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                server_default="available",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("current_order_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("occupied_since", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("merge_group", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_tables_current_order_id"), ["current_order_id"])
        batch.create_index(batch.f("ix_tables_merge_group"), ["merge_group"])
        batch.create_foreign_key(
            batch.f("fk_tables_current_order_id_orders"),
            "orders",
            ["current_order_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(
            batch.f("ck_tables_occupied_has_order"),
            "(state = 'occupied' AND current_order_id IS NOT NULL) OR "
            "(state <> 'occupied' AND current_order_id IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("tables") as batch:
        batch.drop_constraint(batch.f("ck_tables_occupied_has_order"), type_="check")
        batch.drop_constraint(batch.f("ck_tables_table_state"), type_="check")
        batch.drop_constraint(batch.f("fk_tables_current_order_id_orders"), type_="foreignkey")
        batch.drop_index(batch.f("ix_tables_merge_group"))
        batch.drop_index(batch.f("ix_tables_current_order_id"))
        batch.drop_column("merge_group")
        batch.drop_column("occupied_since")
        batch.drop_column("current_order_id")
        batch.drop_column("state")
    op.drop_index(op.f("ix_seat_assignments_order_id"), table_name="seat_assignments")
    op.drop_table("seat_assignments")
    op.drop_index(op.f("ix_orders_table_id"), table_name="orders")
    op.drop_index("ix_orders_status_created_at", table_name="orders")
    op.drop_table("orders")
