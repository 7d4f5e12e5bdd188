"""availability change notifications (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 10:05:00

Every change to bookings, tables or the restaurant settings sends a NOTIFY on the
`availability` channel when its transaction commits, so each server process can drop
what it keeps in memory about the days concerned (app.bookings.cache). A booking row
names its own range ("<starts_at epoch> <ends_at epoch>"); a table's number, size,
area or bookable flag, and the settings, say "*" (everything). Triggers fire for every writer, the application or not. SQLite has no
NOTIFY: nothing to do there (the cache is PostgreSQL-only).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOOKING_FUNCTION = """
CREATE FUNCTION availability_notify_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('availability', floor(extract(epoch FROM OLD.starts_at))::bigint
            || ' ' || ceil(extract(epoch FROM OLD.ends_at))::bigint);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('availability', floor(extract(epoch FROM NEW.starts_at))::bigint
            || ' ' || ceil(extract(epoch FROM NEW.ends_at))::bigint);
    END IF;
    RETURN NULL;
END $$
"""
_EVERYTHING_FUNCTION = """
CREATE FUNCTION availability_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('availability', '*');
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_BOOKING_FUNCTION)
    op.execute(_EVERYTHING_FUNCTION)
    op.execute(
        "CREATE TRIGGER bookings_availability AFTER INSERT OR UPDATE OR DELETE ON bookings "
        "FOR EACH ROW EXECUTE FUNCTION availability_notify_booking()"
    )
    # A table's floor state (seating, orders) changes all evening and does not matter
    # to the days kept; what a table is (number, size, area, bookable) matters to all.
    everything = {
        "bookings": "TRUNCATE",
        "tables": "INSERT OR UPDATE OF table_number, capacity, area, bookable OR DELETE "
        "OR TRUNCATE",
        "restaurant_settings": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    }
    for table, events in everything.items():
        op.execute(
            f"CREATE TRIGGER {table}_availability_all AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION availability_notify_all()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("bookings", "tables", "restaurant_settings"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_availability_all ON {table}")
    op.execute("DROP TRIGGER IF EXISTS bookings_availability ON bookings")
    op.execute("DROP FUNCTION IF EXISTS availability_notify_all()")
    op.execute("DROP FUNCTION IF EXISTS availability_notify_booking()")
