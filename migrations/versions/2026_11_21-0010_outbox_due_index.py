"""outbox: a partial index of the messages still to send, in claim order

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 17:10:00

The dispatcher claims the oldest due messages, `status IN ('pending', 'sending') AND
next_attempt_at <= now ORDER BY next_attempt_at, id LIMIT n FOR UPDATE SKIP LOCKED`.
With an index on (status, next_attempt_at) PostgreSQL read every due row and sorted
them: under a burst of bookings, with thousands of confirmations queued, each claim
cost more the longer the queue. An index on (next_attempt_at, id) of only the messages
still to send is read in claim order and stops at the rows taken; sent, failed and
cancelled messages, most of the table, leave it (docs/performance.md has the figures).

The index is built in place, so writes to the outbox (and with them bookings) wait for
the build, which is short even with hundreds of thousands of sent messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TO_SEND = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    op.drop_index("ix_outbox_messages_status_next_attempt_at", table_name="outbox_messages")
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at", "id"],
        postgresql_where=_TO_SEND,
        sqlite_where=_TO_SEND,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.create_index(
        "ix_outbox_messages_status_next_attempt_at",
        "outbox_messages",
        ["status", "next_attempt_at"],
    )
