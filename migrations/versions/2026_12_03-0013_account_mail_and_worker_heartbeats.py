"""outbox: e-mails about accounts; worker heartbeats

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:00:00

- Two new kinds of outbox message, about an account rather than a booking: the welcome
  sent when an account is made, and the note sent when someone tries to register an
  address that already has one (registration answers the same either way, so it does
  not tell a stranger which addresses have accounts).
- An index of the outbox by recipient and time: a note about an address is sent at most
  once an hour, however often someone registers it.
- `worker_heartbeats`: each e-mail dispatcher (in a web process or `restaurant worker`)
  writes the time of its last round under its own name, so readiness can say whether
  e-mails are being sent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ("booking_confirmed", "booking_cancelled", "booking_reminder")
KINDS = (*KINDS_BEFORE, "account_welcome", "account_exists")
CHECK = "ck_outbox_messages_message_kind"


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), sa.column("kind").in_(kinds))


def upgrade() -> None:
    _kinds(KINDS)
    # "Was this address sent such a note lately?" (at most one an hour, per recipient).
    op.create_index("ix_outbox_messages_recipient", "outbox_messages", ["recipient", "created_at"])
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("beat_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.drop_index("ix_outbox_messages_recipient", table_name="outbox_messages")
    op.execute(
        "DELETE FROM outbox_messages WHERE kind IN ('account_welcome', 'account_exists')"
    )
    _kinds(KINDS_BEFORE)
