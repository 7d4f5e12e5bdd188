"""book_table walks the fitting tables one at a time; reminders are queued when due

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 19:40:00

Two changes to what a booking costs the database.

- book_table (migration 0009) chose its table with one query that kept only the free
  fitting tables, so it probed the bookings of every table that seats the party (all 20
  for a couple) before taking the first. It now walks the fitting tables in the same
  order (smallest capacity, then table number) and probes one table at a time: the first
  free one is locked and booked, and a taken one is passed over without its lock, as
  before. A booking usually lands on the first or second table, so a call does a
  fraction of the work (docs/performance.md).
- A booking used to queue its reminder with its confirmation: two outbox rows, the
  second waiting weeks or months for its time. Now the dispatcher queues each reminder
  when it falls due (app.notifications.outbox.queue_due_reminders): a booking writes one
  outbox row (more bookings/s: docs/performance.md), and a booking cancelled before then
  never has a reminder at all. A unique index allows one reminder per booking, so
  dispatchers running side by side (or a sweep repeated after a crash) cannot queue it
  twice. book_table loses its p_remind_at argument and queues only the confirmation;
  reminders already queued stay and go out at their time.

What book_table books, and when it returns no row, is unchanged. Deploy the application
with this migration: a server of the previous release calls the ten-argument
book_table, which no longer exists. A downgrade restores the old function but queues
nothing for the bookings made in the meantime: those whose reminder was not queued yet
get none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REMINDER = sa.text("kind = 'booking_reminder'")

_OLD_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz, timestamptz)"
)
_NEW_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz)"
)

# The unlocked probe skips a taken table cheaply; the insert's own NOT EXISTS, under the
# table-and-day lock, is what decides (a booking made between the two moves us on).
_BOOK = """
CREATE FUNCTION book_table(
    p_user integer, p_party integer, p_starts timestamptz, p_ends timestamptz,
    p_earliest timestamptz, p_day date, p_table integer, p_special text, p_now timestamptz
) RETURNS TABLE (new_booking integer, new_table integer, new_table_number integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_email text;
    v_table record;
    v_id integer;
BEGIN
    SELECT u.email INTO v_email FROM users u WHERE u.id = p_user AND u.is_active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR v_table IN
        SELECT t.id, t.table_number FROM tables t
        WHERE t.bookable AND t.capacity >= p_party AND (p_table IS NULL OR t.id = p_table)
        ORDER BY t.capacity, t.table_number
    LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id AND b.status IN ('confirmed', 'seated')
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts);
        PERFORM pg_advisory_xact_lock(1003, booking_lock_key(v_table.id, p_day));
        v_id := NULL;
        -- The application announces this booking itself, batched (migration 0009).
        PERFORM set_config('restaurant.notify_later', 'on', true);
        INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, status,
                              special_requests, created_at, updated_at)
        SELECT p_user, v_table.id, p_party, p_starts, p_ends, 'confirmed', p_special,
               p_now, p_now
        WHERE NOT EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id AND b.status IN ('confirmed', 'seated')
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts)
        RETURNING id INTO v_id;
        PERFORM set_config('restaurant.notify_later', 'off', true);
        IF v_id IS NOT NULL THEN
            INSERT INTO outbox_messages (kind, booking_id, recipient, status, attempts,
                                         next_attempt_at, created_at)
            VALUES ('booking_confirmed', v_id, v_email, 'pending', 0, p_now, p_now);
            new_booking := v_id;
            new_table := v_table.id;
            new_table_number := v_table.table_number;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.create_index(
        "uq_outbox_messages_reminder",
        "outbox_messages",
        ["booking_id"],
        unique=True,
        postgresql_where=_REMINDER,
        sqlite_where=_REMINDER,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_OLD_SIGNATURE}")
        op.execute(_BOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_NEW_SIGNATURE}")
        op.execute(context.script.get_revision("0009").module._BOOK)  # as 0009 made it
    op.drop_index("uq_outbox_messages_reminder", table_name="outbox_messages")
