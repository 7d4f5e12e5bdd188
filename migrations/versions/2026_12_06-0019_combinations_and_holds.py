"""table combinations and holds: a booking may take several tables, or be held

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 09:00:00

- `table_combinations` (capacity, the sorted member ids as `members_key`, unique) and
  `table_combination_members`: the tables an admin lets one large party share.
- `bookings.combined_with`: a combination booking has one row per member table, all
  under the exclusion constraint; the rows of the other tables point at the booking.
  A trigger (bookings_combined_sync, both databases) copies the booking's status, times
  and expiry to them whenever those change, whoever changes them.
- `bookings.status` may be `held` (a hold: POST /bookings/holds) with
  `hold_expires_at`, or `expired`. The exclusion constraint now keeps holds apart from
  bookings too (`status IN ('confirmed', 'seated', 'held')`); a hold past its expiry is
  ignored by every read at once, and marked expired by the next writer of its table
  under the table's lock, so no background job is needed for correctness.
- book_table (PostgreSQL's fast path) passes over a table with a live hold, and marks a
  table's holds that are over before it inserts (app/bookings/sql/book_table.sql).
- PostgreSQL: changes of combinations NOTIFY the availability caches, as table changes do.

SQLite rebuilds `bookings` for the new CHECK constraints: its floor-event triggers
(migration 0017) are created again. The downgrade deletes holds and combination rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import app.db.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = ("confirmed", "cancelled", "seated", "completed", "no_show")
STATUSES = (*STATUSES_BEFORE, "held", "expired")
STATUS_CHECK = "ck_bookings_booking_status"
HOLD_CHECK = "ck_bookings_hold_has_expiry"
_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz, integer)"
)
_EXCLUDE = (
    "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
    "(table_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({where})"
)
_SYNCED = ("status", "starts_at", "ends_at", "hold_expires_at", "cancelled_at")
_PG_SYNC = """
CREATE FUNCTION bookings_combined_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings SET status = NEW.status, starts_at = NEW.starts_at, ends_at = NEW.ends_at,
                        hold_expires_at = NEW.hold_expires_at, cancelled_at = NEW.cancelled_at,
                        updated_at = NEW.updated_at
    WHERE combined_with = NEW.id;
    RETURN NULL;
END $$
"""
_PG_SYNC_TRIGGER = (
    "CREATE TRIGGER bookings_combined_sync AFTER UPDATE ON bookings FOR EACH ROW "
    "WHEN (NEW.combined_with IS NULL AND (OLD.status, OLD.starts_at, OLD.ends_at, "
    "OLD.hold_expires_at, OLD.cancelled_at) IS DISTINCT FROM (NEW.status, NEW.starts_at, "
    "NEW.ends_at, NEW.hold_expires_at, NEW.cancelled_at)) "
    "EXECUTE FUNCTION bookings_combined_sync()"
)
_SQLITE_SYNC_TRIGGER = (
    "CREATE TRIGGER bookings_combined_sync AFTER UPDATE OF status, starts_at, ends_at, "
    "hold_expires_at, cancelled_at ON bookings WHEN NEW.combined_with IS NULL BEGIN "
    "UPDATE bookings SET status = NEW.status, starts_at = NEW.starts_at, "
    "ends_at = NEW.ends_at, hold_expires_at = NEW.hold_expires_at, "
    "cancelled_at = NEW.cancelled_at, updated_at = NEW.updated_at "
    "WHERE combined_with = NEW.id; END"
)
# Migration 0017's floor-event triggers, as SQLite needs them again after the rebuild.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
_FLOOR_EVENTS = {"INSERT": ("created", "NEW"), "UPDATE": ("updated", "NEW"),
                 "DELETE": ("deleted", "OLD")}  # fmt: skip
# app/bookings/sql/book_table.sql has the same text (tests/bookings/test_book_table_sql.py).
_BOOK = """
CREATE FUNCTION book_table(
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
END $$"""


def _sqlite_floor_triggers() -> None:
    for operation, (change, row) in _FLOOR_EVENTS.items():
        op.execute(
            f"CREATE TRIGGER bookings_floor_event_{operation.lower()} AFTER {operation} "
            f"ON bookings BEGIN INSERT INTO floor_events (kind, subject_id, change, "
            f"created_at) VALUES ('booking', {row}.id, '{change}', {_SQLITE_NOW}); END"
        )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "table_combinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("members_key", sa.String(length=400), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "capacity BETWEEN 2 AND 200", name=op.f("ck_table_combinations_capacity_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_table_combinations")),
        sa.UniqueConstraint("members_key", name="uq_table_combinations_members_key"),
    )
    op.create_table(
        "table_combination_members",
        sa.Column("combination_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["combination_id"], ["table_combinations.id"],
            name=op.f("fk_table_combination_members_combination_id_table_combinations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"], ["tables.id"],
            name=op.f("fk_table_combination_members_table_id_tables"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "combination_id", "table_id", name=op.f("pk_table_combination_members")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_table_combination_members_table_id"), "table_combination_members", ["table_id"]
    )
    if postgres:
        op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(
            sa.Column("hold_expires_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("combined_with", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_bookings_combined_with_bookings"), "bookings", ["combined_with"], ["id"],
            ondelete="CASCADE",
        )  # fmt: skip
        batch.create_index(batch.f("ix_bookings_combined_with"), ["combined_with"])
        batch.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch.create_check_constraint(op.f(STATUS_CHECK), sa.column("status").in_(STATUSES))
        batch.create_check_constraint(
            op.f(HOLD_CHECK),
            "(status = 'held') = (hold_expires_at IS NOT NULL) OR status = 'expired'",
        )
    if postgres:
        op.execute(_EXCLUDE.format(where="status IN ('confirmed', 'seated', 'held')"))
        op.execute(_PG_SYNC)
        op.execute(_PG_SYNC_TRIGGER)
        for table in ("table_combinations", "table_combination_members"):
            op.execute(
                f"CREATE TRIGGER {table}_availability_all AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION availability_notify_all()"
            )
        op.execute(f"DROP FUNCTION {_SIGNATURE}")
        op.execute(_BOOK)
    else:
        _sqlite_floor_triggers()
        op.execute(_SQLITE_SYNC_TRIGGER)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DELETE FROM bookings WHERE status IN ('held', 'expired') "
               "OR combined_with IS NOT NULL")  # fmt: skip
    if postgres:
        op.execute(f"DROP FUNCTION {_SIGNATURE}")
        op.execute(context.script.get_revision("0014").module._BOOK)  # as 0014 made it
        for table in ("table_combinations", "table_combination_members"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_availability_all ON {table}")
        op.execute("DROP TRIGGER bookings_combined_sync ON bookings")
        op.execute("DROP FUNCTION bookings_combined_sync()")
        op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_no_overlap")
    else:
        op.execute("DROP TRIGGER bookings_combined_sync")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint(op.f(HOLD_CHECK), type_="check")
        batch.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch.create_check_constraint(
            op.f(STATUS_CHECK), sa.column("status").in_(STATUSES_BEFORE)
        )
        batch.drop_index(batch.f("ix_bookings_combined_with"))
        batch.drop_constraint(batch.f("fk_bookings_combined_with_bookings"), type_="foreignkey")
        batch.drop_column("combined_with")
        batch.drop_column("hold_expires_at")
    if postgres:
        op.execute(_EXCLUDE.format(where="status IN ('confirmed', 'seated')"))
    else:
        _sqlite_floor_triggers()
    op.drop_index(
        op.f("ix_table_combination_members_table_id"), table_name="table_combination_members"
    )
    op.drop_table("table_combination_members")
    op.drop_table("table_combinations")
