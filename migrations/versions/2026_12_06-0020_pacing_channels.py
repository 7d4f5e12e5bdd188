"""pacing and table channels

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 10:00:00

- `tables.channel`: `online` (guests and staff book it), `in_house` (staff only) or
  `walk_in` (never booked ahead); every existing table is online, as before.
- `bookings.pacing_override_reason`: why staff booked past a slot's pacing limit (the
  limit itself is a service's `pacing_covers` in `restaurant_settings.opening_hours`,
  JSON: no column).
- PostgreSQL's book_table walks online tables only (the one line marked in
  app/bookings/sql/book_table.sql).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("online", "in_house", "walk_in")
_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz, integer)"
)
# app/bookings/sql/book_table.sql has the same text (tests/bookings/test_book_table_sql.py).
_BOOK = """
CREATE OR REPLACE FUNCTION book_table(
    p_user integer, p_party integer, p_starts timestamptz, p_ends timestamptz,
    p_earliest timestamptz, p_day date, p_table integer, p_special text, p_now timestamptz,
    p_max_active integer
) RETURNS TABLE (new_booking integer, new_table integer, new_table_number integer,
                 new_guest integer, new_guest_name text, new_guest_phone text,
                 new_guest_email text)
LANGUAGE plpgsql AS $$
DECLARE
    v_guest record;
    v_table record;
    v_id integer;
BEGIN
    -- Staff, and a customer's first booking (no guest record yet), take the full path.
    PERFORM 1 FROM users u WHERE u.id = p_user AND u.is_active AND u.role = 'customer';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT g.id, g.name, g.phone, g.email INTO v_guest FROM guests g WHERE g.user_id = p_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Fair use, under the account's lock (app.db.locks.LockSpace.ACCOUNT).
    PERFORM pg_advisory_xact_lock(1004, p_user);
    -- Bounded ranges of the (user_id, starts_at) index, however many the account holds:
    -- an overlapping booking starts after p_earliest; the count stops at the limit (a
    -- booking not yet over started less than MAX_DURATION, 12 hours, ago).
    IF EXISTS (
        SELECT 1 FROM bookings b
        WHERE b.user_id = p_user AND b.status IN ('confirmed', 'seated')
          AND b.starts_at > p_earliest AND b.starts_at < p_ends AND b.ends_at > p_starts)
       OR (SELECT count(*) FROM (
               SELECT 1 FROM bookings b
               WHERE b.user_id = p_user AND b.status IN ('confirmed', 'seated')
                 AND b.starts_at > p_now - interval '12 hours' AND b.ends_at > p_now
               LIMIT p_max_active) AS held) >= p_max_active THEN
        RETURN;
    END IF;
    FOR v_table IN
        SELECT t.id, t.table_number FROM tables t
        WHERE t.bookable AND t.capacity >= p_party AND (p_table IS NULL OR t.id = p_table)
          AND t.channel = 'online'  -- guests book online tables only (migration 0020)
        ORDER BY t.capacity, t.table_number
    LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id
              AND (b.status IN ('confirmed', 'seated')
                   OR (b.status = 'held' AND b.hold_expires_at > p_now))
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts);
        PERFORM pg_advisory_xact_lock(1003, booking_lock_key(v_table.id, p_day));
        -- A hold over by now no longer keeps the table, but the exclusion constraint
        -- still counts it until it is marked expired (migration 0019).
        UPDATE bookings b SET status = 'expired', updated_at = p_now
        WHERE b.table_id = v_table.id AND b.status = 'held' AND b.hold_expires_at <= p_now
          AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts;
        v_id := NULL;
        -- The application announces this booking itself, batched (migration 0009).
        PERFORM set_config('restaurant.notify_later', 'on', true);
        INSERT INTO bookings (user_id, guest_id, source, table_id, party_size, starts_at,
                              ends_at, status, special_requests, created_at, updated_at)
        SELECT p_user, v_guest.id, 'online', v_table.id, p_party, p_starts, p_ends,
               'confirmed', p_special, p_now, p_now
        WHERE NOT EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id
              AND (b.status IN ('confirmed', 'seated')
                   OR (b.status = 'held' AND b.hold_expires_at > p_now))
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts)
        RETURNING id INTO v_id;
        PERFORM set_config('restaurant.notify_later', 'off', true);
        IF v_id IS NOT NULL THEN
            IF v_guest.email IS NOT NULL THEN
                INSERT INTO outbox_messages (kind, booking_id, recipient, status, attempts,
                                             next_attempt_at, created_at)
                VALUES ('booking_confirmed', v_id, v_guest.email, 'pending', 0, p_now, p_now);
            END IF;
            new_booking := v_id;
            new_table := v_table.id;
            new_table_number := v_table.table_number;
            new_guest := v_guest.id;
            new_guest_name := v_guest.name;
            new_guest_phone := v_guest.phone;
            new_guest_email := v_guest.email;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$
"""


_CHECK = "channel IN ('online', 'in_house', 'walk_in')"


def upgrade() -> None:
    # No batch_alter_table: on SQLite it copies the table, which drops the floor-event
    # triggers of migration 0017 on `tables` and `bookings`.
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "tables",
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="online"),
        )
        op.create_check_constraint(op.f("ck_tables_table_channel"), "tables", _CHECK)
    else:
        op.execute(
            "ALTER TABLE tables ADD COLUMN channel VARCHAR(16) DEFAULT 'online' NOT NULL "
            f"CONSTRAINT ck_tables_table_channel CHECK ({_CHECK})"
        )
    op.add_column(
        "bookings", sa.Column("pacing_override_reason", sa.String(length=500), nullable=True)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_SIGNATURE}")
        op.execute(context.script.get_revision("0019").module._BOOK)  # as 0019 made it
        op.drop_column("bookings", "pacing_override_reason")
        op.drop_constraint(op.f("ck_tables_table_channel"), "tables", type_="check")
        op.drop_column("tables", "channel")
        return
    op.execute("ALTER TABLE bookings DROP COLUMN pacing_override_reason")
    # SQLite cannot drop a column a CHECK names: the table is copied without it, which
    # drops its floor-event triggers; they are made again as 0017 made them.
    with op.batch_alter_table("tables") as batch:
        batch.drop_constraint(op.f("ck_tables_table_channel"), type_="check")
        batch.drop_column("channel")
    events = context.script.get_revision("0017").module
    for operation, (change, row) in events.CHANGES.items():
        # Constants of migration 0017, no input.
        trigger = (
            f"CREATE TRIGGER IF NOT EXISTS tables_floor_event_{operation.lower()} AFTER "  # noqa: S608
            f"{operation} ON tables BEGIN INSERT INTO floor_events (kind, subject_id, change, "
            f"created_at) VALUES ('table', {row}.id, '{change}', {events._SQLITE_NOW}); END"
        )
        op.execute(trigger)
