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
- Two new kinds of outbox message (booking_changed, password_reset) and a note on a
  message (the restaurant's reason for cancelling a booking).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

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
HAS_EMAIL = sa.text("email IS NOT NULL")


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

    # Every account that has booked gets its guest record, and its bookings that guest.
    now = datetime.now(UTC)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO guests (name, email, user_id, tags, created_at, updated_at) "
            "SELECT u.name, u.email, u.id, '[]', :now, :now FROM users u "
            "WHERE EXISTS (SELECT 1 FROM bookings b WHERE b.user_id = u.id)"
        ),
        {"now": now},
    )
    op.execute(
        "UPDATE bookings SET guest_id = "
        "(SELECT g.id FROM guests g WHERE g.user_id = bookings.user_id) "
        "WHERE user_id IS NOT NULL"
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


def downgrade() -> None:
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
