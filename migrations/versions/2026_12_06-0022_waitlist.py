"""the waitlist: guests waiting for a table, walk-ins waiting at the door, offers

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:00:00

- `waitlist_entries`: a party waiting on one local date. A guest's own entry (kind
  `booking`: its account and a window of start times) is offered a freed table as a
  hold (`hold_id`, `offer_expires_at`, the SHA-256 of its link's token); a walk-in (kind
  `walk_in`: its guest record and the quoted wait) is seated by staff. One open entry
  (waiting or offered) per account and date.
- A new kind of outbox message, `waitlist_offer`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "booking_confirmed",
    "booking_cancelled",
    "booking_reminder",
    "account_welcome",
    "account_exists",
    "booking_changed",
    "password_reset",
)
KINDS = (*KINDS_BEFORE, "waitlist_offer")
CHECK = "ck_outbox_messages_message_kind"
OPEN = sa.text("status IN ('waiting', 'offered')")
ENTRY_KINDS = ("booking", "walk_in")
STATUSES = ("waiting", "offered", "booked", "expired", "declined", "cancelled", "seated")


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), sa.column("kind").in_(kinds))


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("guest_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("earliest", sa.Time(), nullable=True),
        sa.Column("latest", sa.Time(), nullable=True),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("quoted_wait_minutes", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offer_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            sa.column("kind").in_(ENTRY_KINDS), name=op.f("ck_waitlist_entries_entry_kind")
        ),
        sa.CheckConstraint(
            sa.column("status").in_(STATUSES), name=op.f("ck_waitlist_entries_entry_status")
        ),
        sa.CheckConstraint(
            "party_size >= 1", name=op.f("ck_waitlist_entries_party_size_positive")
        ),
        sa.CheckConstraint(
            "kind <> 'booking' OR (user_id IS NOT NULL AND earliest IS NOT NULL "
            "AND latest IS NOT NULL AND earliest <= latest)",
            name=op.f("ck_waitlist_entries_booking_has_window"),
        ),
        sa.CheckConstraint(
            "kind <> 'walk_in' OR (quoted_wait_minutes IS NOT NULL AND guest_id IS NOT NULL)",
            name=op.f("ck_waitlist_entries_walk_in_has_quote"),
        ),
        sa.CheckConstraint(
            "status <> 'offered' OR (hold_id IS NOT NULL AND offer_expires_at IS NOT NULL "
            "AND offer_token_hash IS NOT NULL)",
            name=op.f("ck_waitlist_entries_offer_has_hold"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_waitlist_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guests.id"], name=op.f("fk_waitlist_entries_guest_id_guests"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["bookings.id"], name=op.f("fk_waitlist_entries_hold_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )  # fmt: skip
    op.create_index(
        "ix_waitlist_entries_day_status",
        "waitlist_entries",
        ["day", "status", "created_at", "id"],
    )
    op.create_index("ix_waitlist_entries_user_id", "waitlist_entries", ["user_id"])
    op.create_index(
        "uq_waitlist_entries_user_day",
        "waitlist_entries",
        ["user_id", "day"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index(
        "uq_waitlist_entries_offer_token_hash",
        "waitlist_entries",
        ["offer_token_hash"],
        unique=True,
    )
    _kinds(KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE kind = 'waitlist_offer'")
    _kinds(KINDS_BEFORE)
    op.drop_table("waitlist_entries")
