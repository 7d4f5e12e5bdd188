"""a booking in one statement (PostgreSQL)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 12:30:00

`book_table(...)` books the best-fitting free table for a party in one call: it checks
the guest's account, walks the fitting tables best fit first, takes each one's
table-and-day advisory lock, inserts the booking only if nothing active overlaps it, and
queues the confirmation (and reminder) in the outbox. Run as one statement in
autocommit it is one transaction and one round trip, where the same steps sent from
the application take eight. It returns no row when it cannot simply book (an inactive
account, no free table): the application then takes its full path, which says why.

`booking_lock_key(table, day)` is the advisory lock key of a table's bookings on one
local date, used by this function and by the application's own booking and merging
code (app.db.locks.table_day_lock), so that both serialise on the same locks. The exclusion
constraint of migration 0002 still backs every write. SQLite has no functions: there
the application's path is the only one.

PostgreSQL serialises the commits of transactions that sent a NOTIFY (one lock, held
until the commit is flushed), so the availability trigger of migration 0007 made
bookings commit one at a time. book_table holds the trigger's NOTIFY back for its own
insert (a transaction-local setting the trigger now reads), and the application
announces those bookings in batches (app.bookings.cache.ChangePublisher). Every
other write to bookings still notifies from the trigger.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fits int4, as pg_advisory_xact_lock(int, int) needs. Two (table, day) pairs sharing
# a key only wait for each other.
_LOCK_KEY = """
CREATE FUNCTION booking_lock_key(p_table integer, p_day date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (((p_table::bigint * 1000003 + (p_day - DATE '2000-01-01')) & 4294967295)
            - 2147483648)::integer
$$
"""

# p_earliest is p_starts less the longest a booking can last (app.venue.calendar
# MAX_DURATION), so the overlap checks walk a bounded range of the
# (table_id, starts_at) index. Lock space 1003 is app.db.locks.LockSpace.TABLE_DAY.
_BOOK = """
CREATE FUNCTION book_table(
    p_user integer, p_party integer, p_starts timestamptz, p_ends timestamptz,
    p_earliest timestamptz, p_day date, p_table integer, p_special text,
    p_now timestamptz, p_remind_at timestamptz
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
          AND NOT EXISTS (
              SELECT 1 FROM bookings b
              WHERE b.table_id = t.id AND b.status IN ('confirmed', 'seated')
                AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts)
        ORDER BY t.capacity, t.table_number
    LOOP
        PERFORM pg_advisory_xact_lock(1003, booking_lock_key(v_table.id, p_day));
        v_id := NULL;
        -- The application announces this booking itself, batched (see the docstring).
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
            IF p_remind_at IS NOT NULL THEN
                INSERT INTO outbox_messages (kind, booking_id, recipient, status, attempts,
                                             next_attempt_at, created_at)
                VALUES ('booking_reminder', v_id, v_email, 'pending', 0, p_remind_at, p_now);
            END IF;
            new_booking := v_id;
            new_table := v_table.id;
            new_table_number := v_table.table_number;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$
"""


def _notify_booking(first: str = "") -> str:
    """The availability trigger function of migration 0007, with `first` run before it."""
    return f"""
CREATE OR REPLACE FUNCTION availability_notify_booking() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN{first}
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


_NOTIFY_BOOKING = _notify_booking("""
    IF current_setting('restaurant.notify_later', true) = 'on' THEN
        RETURN NULL;  -- book_table's insert: announced by the application, batched
    END IF;""")
_NOTIFY_BOOKING_0007 = _notify_booking()  # as migration 0007 created it


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_LOCK_KEY)
    op.execute(_BOOK)
    op.execute(_NOTIFY_BOOKING)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOTIFY_BOOKING_0007)
    op.execute(
        "DROP FUNCTION IF EXISTS book_table(integer, integer, timestamptz, timestamptz, "
        "timestamptz, date, integer, text, timestamptz, timestamptz)"
    )
    op.execute("DROP FUNCTION IF EXISTS booking_lock_key(integer, date)")
