"""restaurant settings tables bookings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:38:43.925446
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base
from app.config import Settings

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DEFAULT_TABLES = [
    # (table_number, capacity, area)
    (1, 2, "window"), (2, 2, "window"), (3, 4, "window"), (4, 4, "window"),
    (5, 4, "main"), (6, 6, "main"), (7, 4, "main"), (8, 4, "main"),
    (9, 2, "main"), (10, 2, "main"), (11, 6, "main"), (12, 6, "patio"),
    (13, 4, "patio"), (14, 8, "patio"), (15, 8, "main"), (16, 2, "bar"),
    (17, 2, "bar"), (18, 4, "patio"), (19, 10, "private"), (20, 12, "private"),
]  # fmt: skip
EVERY_DAY = [{"opens": "12:00", "closes": "23:00"}]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "restaurant_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("durations", sa.JSON(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("max_party_size", sa.Integer(), nullable=False),
        sa.Column("closed_dates", sa.JSON(), nullable=False),
        sa.Column("cancel_cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("service_charge_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_restaurant_settings_single_row")),
        sa.CheckConstraint(
            "max_party_size >= 1", name=op.f("ck_restaurant_settings_max_party_size_positive")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 240", name=op.f("ck_restaurant_settings_slot_minutes_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restaurant_settings")),
    )
    op.create_table(
        "tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_number", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity BETWEEN 1 AND 50", name=op.f("ck_tables_capacity_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tables")),
        sa.UniqueConstraint("table_number", name=op.f("uq_tables_table_number")),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("starts_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "confirmed",
                "cancelled",
                "seated",
                "completed",
                "no_show",
                name="booking_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("special_requests", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_ends_after_start")),
        sa.CheckConstraint("party_size >= 1", name=op.f("ck_bookings_party_size_positive")),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["tables.id"],
            name=op.f("fk_bookings_table_id_tables"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_starts_at", "bookings", ["starts_at"], unique=False)
    op.create_index(
        "ix_bookings_table_id_starts_at", "bookings", ["table_id", "starts_at"], unique=False
    )
    op.create_index(
        "ix_bookings_user_id_starts_at", "bookings", ["user_id", "starts_at"], unique=False
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    )
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        # No two active bookings of one table may overlap, whoever writes them.
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
            "(table_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('confirmed', 'seated'))"
        )
    _seed_default_restaurant()


def _seed_default_restaurant() -> None:
    """A fresh database has the default restaurant: its settings and 20 tables."""
    env = Settings(secret_key="unused-by-migrations-" + "x" * 32)
    now = app.db.base.utcnow()
    settings = sa.table(
        "restaurant_settings",
        *(sa.column(c) for c in (
            "id", "name", "timezone", "slot_minutes", "lead_minutes", "horizon_days",
            "max_party_size", "cancel_cutoff_minutes", "hold_minutes",
            "service_charge_percent", "tax_percent",
        )),
        sa.column("opening_hours", sa.JSON()),
        sa.column("durations", sa.JSON()),
        sa.column("closed_dates", sa.JSON()),
        sa.column("updated_at", app.db.base.UTCDateTime()),
    )
    op.bulk_insert(settings, [{
        "id": 1,
        "name": env.restaurant_name,
        "timezone": env.restaurant_timezone,
        "opening_hours": {day: EVERY_DAY for day in WEEKDAYS},
        "slot_minutes": 15,
        "durations": [
            {"max_party_size": 2, "minutes": 90},
            {"max_party_size": 4, "minutes": 120},
            {"max_party_size": None, "minutes": 150},
        ],
        "lead_minutes": 30,
        "horizon_days": 90,
        "max_party_size": 12,
        "closed_dates": [],
        "cancel_cutoff_minutes": 0,
        "hold_minutes": 30,
        "service_charge_percent": 0,
        "tax_percent": 0,
        "updated_at": now,
    }])  # fmt: skip
    tables = sa.table(
        "tables",
        sa.column("table_number"), sa.column("capacity"), sa.column("area"),
        sa.column("bookable"), sa.column("created_at", app.db.base.UTCDateTime()),
    )  # fmt: skip
    op.bulk_insert(tables, [
        {"table_number": n, "capacity": c, "area": a, "bookable": True, "created_at": now}
        for n, c, a in DEFAULT_TABLES
    ])  # fmt: skip


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_bookings_user_id_starts_at", table_name="bookings")
    op.drop_index("ix_bookings_table_id_starts_at", table_name="bookings")
    op.drop_index("ix_bookings_starts_at", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("tables")
    op.drop_table("restaurant_settings")
