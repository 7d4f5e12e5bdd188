"""webhooks: endpoints, the events bookings raise, deliveries and their attempts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 10:00:00

Triggers on `bookings` write one `webhook_events` row per booking event, in the
transaction of the change, whoever makes it (the ORM, PostgreSQL's book_table function,
the statement layer, a script), and only while at least one endpoint is enabled (one
EXISTS on a table of a few rows: the booking path pays nothing else):

- INSERT of a confirmed booking: booking.created (a hold, status held, is not a booking);
- UPDATE from held or expired to confirmed: booking.created (a hold confirmed); any other
  change of a hold says nothing;
- UPDATE of the status to cancelled, seated or no_show: booking.cancelled, .seated,
  .no_show;
- UPDATE of starts_at, ends_at, party_size or table_id of a confirmed booking (still
  confirmed): booking.changed.

ROW_CONDITIONS below says which rows speak at all (both databases use it): a
combination's other tables' rows (`bookings.combined_with`, migration 0019) do not; the
booking's own row speaks for it.

SQLite drops a table's triggers with the table: a later migration that rebuilds
`bookings` in batch mode must create these triggers again (as 0017's).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows that may raise an event at all, whatever the change (SQL over NEW, joined by AND).
ROW_CONDITIONS: list[str] = ["NEW.combined_with IS NULL"]
LISTENING = "EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled)"
ON_INSERT = "CASE WHEN NEW.status = 'confirmed' THEN 'booking.created' END"
ON_UPDATE = """CASE
        WHEN OLD.status IN ('held', 'expired') THEN
            CASE WHEN NEW.status = 'confirmed' THEN 'booking.created' END
        WHEN NEW.status <> OLD.status THEN
            CASE NEW.status WHEN 'cancelled' THEN 'booking.cancelled'
                            WHEN 'seated' THEN 'booking.seated'
                            WHEN 'no_show' THEN 'booking.no_show' END
        WHEN NEW.status = 'confirmed' AND (NEW.starts_at <> OLD.starts_at
             OR NEW.ends_at <> OLD.ends_at OR NEW.party_size <> OLD.party_size
             OR NEW.table_id <> OLD.table_id) THEN 'booking.changed'
    END"""
# What an UPDATE must touch to matter (PostgreSQL calls the function only then).
_WATCHED = ("status", "starts_at", "ends_at", "party_size", "table_id")
_COLUMNS = "type, booking_id, status, starts_at, ends_at, party_size, table_id, occurred_at"
_VALUES = "NEW.id, NEW.status, NEW.starts_at, NEW.ends_at, NEW.party_size, NEW.table_id"

_PG_FUNCTION = f"""
CREATE FUNCTION webhook_booking_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
BEGIN
    IF NOT {LISTENING} THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        v_type := {ON_INSERT};
    ELSE
        v_type := {ON_UPDATE};
    END IF;
    IF v_type IS NOT NULL THEN
        INSERT INTO webhook_events ({_COLUMNS})
        VALUES (v_type, {_VALUES}, now());
    END IF;
    RETURN NULL;
END $$
"""
# SQLite: the instant as SQLAlchemy stores a UTCDateTime there (naive UTC, microseconds).
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def _when(*conditions: str) -> str:
    return " AND ".join(f"({c})" for c in [*conditions, *ROW_CONDITIONS])


def _create_triggers(postgres: bool) -> None:
    if postgres:
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER bookings_webhook_insert AFTER INSERT ON bookings FOR EACH ROW "
            f"WHEN ({_when(ON_INSERT + ' IS NOT NULL')}) "
            "EXECUTE FUNCTION webhook_booking_event()"
        )
        old = ", ".join(f"OLD.{c}" for c in _WATCHED)
        new = ", ".join(f"NEW.{c}" for c in _WATCHED)
        op.execute(
            "CREATE TRIGGER bookings_webhook_update AFTER UPDATE ON bookings FOR EACH ROW "
            f"WHEN ({_when(f'({old}) IS DISTINCT FROM ({new})')}) "
            "EXECUTE FUNCTION webhook_booking_event()"
        )
        return
    for operation, change in (("INSERT", ON_INSERT), ("UPDATE", ON_UPDATE)):
        op.execute(
            f"CREATE TRIGGER bookings_webhook_{operation.lower()} AFTER {operation} ON "
            f"bookings WHEN {_when(LISTENING)} BEGIN "
            f"INSERT INTO webhook_events ({_COLUMNS}) "
            f"SELECT kind, {_VALUES}, {_SQLITE_NOW} FROM (SELECT {change} AS kind) "
            "WHERE kind IS NOT NULL; END"
        )


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_enabled"), "webhook_endpoints", ["enabled"], unique=False
    )
    event_types = ", ".join(
        f"'{t}'"
        for t in (
            "booking.created", "booking.changed", "booking.cancelled", "booking.seated",
            "booking.no_show", "waitlist.offered",
        )
    )  # fmt: skip
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("starts_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("party_size", sa.Integer(), nullable=True),
        sa.Column("table_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("occurred_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"type IN ({event_types})", name=op.f("ck_webhook_events_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "delivered",
                "failed",
                name="webhook_delivery_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("delivered_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"
        ),
    )
    to_send = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at", "id"],
        unique=False,
        postgresql_where=to_send,
        sqlite_where=to_send,
    )
    op.create_index(
        "ix_webhook_deliveries_waiting",
        "webhook_deliveries",
        ["endpoint_id", "booking_id", "event_id"],
        unique=False,
        postgresql_where=to_send,
        sqlite_where=to_send,
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"], unique=False
    )
    _create_triggers(op.get_bind().dialect.name == "postgresql")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bookings_webhook_insert ON bookings")
        op.execute("DROP TRIGGER IF EXISTS bookings_webhook_update ON bookings")
        op.execute("DROP FUNCTION IF EXISTS webhook_booking_event()")
    else:
        op.execute("DROP TRIGGER IF EXISTS bookings_webhook_insert")
        op.execute("DROP TRIGGER IF EXISTS bookings_webhook_update")
    op.drop_index(op.f("ix_webhook_attempts_delivery_id"), table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_waiting", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_index(op.f("ix_webhook_endpoints_enabled"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
