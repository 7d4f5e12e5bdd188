"""guests on bookings; booking source; account phone; fair use; e-mails about changes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00

- `guests`: one record per person the restaurant books for (matched by e-mail, else
  phone), linked to their account if they have one; staff notes, allergies and tags.
  Existing bookings get their account's guest record.
- `bookings.guest_id` and `bookings.source` (online, phone, walk_in).
- `users.phone` (E.164), optional.
- `restaurant_settings.max_active_bookings_per_guest` (fair use, default 4).
- PostgreSQL's book_table books with the account's guest record and source online, and
  applies fair use under the account's lock; a staff member's booking, and a customer's
  first (which makes the record), take the application's full path.
- Two new kinds of outbox message (booking_changed, password_reset) and a note on a
  message (the restaurant's reason for cancelling a booking).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

import app.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "booking_confirmed",
    "booking_cancelled",
    "booking_reminder",
    "account_welcome",
    "account_exists",
)
KINDS = (*KINDS_BEFORE, "booking_changed", "password_reset")
CHECK = "ck_outbox_messages_message_kind"
SOURCES = ("online", "phone", "walk_in")
_OLD_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz)"
)
_NEW_SIGNATURE = (
    "book_table(integer, integer, timestamptz, timestamptz, timestamptz, date, integer, "
    "text, timestamptz, integer)"
)
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
            WHERE b.table_id = v_table.id AND b.status IN ('confirmed', 'seated')
              AND b.starts_at < p_ends AND b.starts_at > p_earliest AND b.ends_at > p_starts);
        PERFORM pg_advisory_xact_lock(1003, booking_lock_key(v_table.id, p_day));
        v_id := NULL;
        -- The application announces this booking itself, batched (migration 0009).
        PERFORM set_config('restaurant.notify_later', 'on', true);
        INSERT INTO bookings (user_id, guest_id, source, table_id, party_size, starts_at,
                              ends_at, status, special_requests, created_at, updated_at)
        SELECT p_user, v_guest.id, 'online', v_table.id, p_party, p_starts, p_ends,
               'confirmed', p_special, p_now, p_now
        WHERE NOT EXISTS (
            SELECT 1 FROM bookings b
            WHERE b.table_id = v_table.id AND b.status IN ('confirmed', 'seated')
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
HAS_EMAIL = sa.text("email IS NOT NULL AND user_id IS NULL")


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), sa.column("kind").in_(kinds))


def upgrade() -> None:
    op.create_table(
        "guests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("allergies", sa.String(length=500), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_guests_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guests")),
        sa.UniqueConstraint("user_id", name=op.f("uq_guests_user_id")),
    )
    op.create_index(
        "uq_guests_email",
        "guests",
        ["email"],
        unique=True,
        postgresql_where=HAS_EMAIL,
        sqlite_where=HAS_EMAIL,
    )
    op.create_index("ix_guests_phone", "guests", ["phone"])
    op.create_index("ix_guests_name", "guests", ["name"])

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=20), nullable=True))

    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("guest_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="online")
        )
        batch.create_foreign_key(
            op.f("fk_bookings_guest_id_guests"), "guests", ["guest_id"], ["id"], ondelete="RESTRICT"
        )
        batch.create_check_constraint(
            op.f("ck_bookings_booking_source"), sa.column("source").in_(SOURCES)
        )
    op.create_index("ix_bookings_guest_id_starts_at", "bookings", ["guest_id", "starts_at"])

    # Every customer account that has booked gets its guest record, and its bookings that
    # guest.
    now = datetime.now(UTC)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO guests (name, email, user_id, tags, created_at, updated_at) "
            "SELECT u.name, u.email, u.id, '[]', :now, :now FROM users u "
            "WHERE u.role = 'customer' "
            "AND EXISTS (SELECT 1 FROM bookings b WHERE b.user_id = u.id)"
        ),
        {"now": now},
    )
    op.execute(
        "UPDATE bookings SET guest_id = "
        "(SELECT g.id FROM guests g WHERE g.user_id = bookings.user_id) "
        "WHERE user_id IS NOT NULL"
    )
    # Staff booked for guests on their own accounts before bookings had guests: those
    # were phone bookings for someone unknown, so they get no guest (no e-mail goes to
    # the staff member about them; staff can still see and change them).
    op.execute(
        "UPDATE bookings SET source = 'phone' WHERE user_id IN "
        "(SELECT id FROM users WHERE role IN ('staff', 'admin'))"
    )

    with op.batch_alter_table("restaurant_settings") as batch:
        batch.add_column(
            sa.Column(
                "max_active_bookings_per_guest", sa.Integer(), nullable=False, server_default="4"
            )
        )
        batch.create_check_constraint(
            op.f("ck_restaurant_settings_max_active_bookings_positive"),
            sa.column("max_active_bookings_per_guest") >= 1,
        )

    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("note", sa.String(length=500), nullable=True))
    _kinds(KINDS)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_OLD_SIGNATURE}")
        op.execute(_BOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_NEW_SIGNATURE}")
        op.execute(context.script.get_revision("0011").module._BOOK)  # as 0011 made it
    op.execute("DELETE FROM outbox_messages WHERE kind IN ('booking_changed', 'password_reset')")
    _kinds(KINDS_BEFORE)
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("restaurant_settings") as batch:
        batch.drop_constraint(
            op.f("ck_restaurant_settings_max_active_bookings_positive"), type_="check"
        )
        batch.drop_column("max_active_bookings_per_guest")
    op.drop_index("ix_bookings_guest_id_starts_at", table_name="bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint(op.f("ck_bookings_booking_source"), type_="check")
        batch.drop_constraint(op.f("fk_bookings_guest_id_guests"), type_="foreignkey")
        batch.drop_column("source")
        batch.drop_column("guest_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")
    op.drop_index("ix_guests_name", table_name="guests")
    op.drop_index("ix_guests_phone", table_name="guests")
    op.drop_index("uq_guests_email", table_name="guests")
    op.drop_table("guests")
