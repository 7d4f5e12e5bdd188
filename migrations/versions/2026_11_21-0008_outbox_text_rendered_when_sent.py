"""outbox: confirmations and reminders rendered when sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 12:10:00

A booking's confirmation and reminder are queued without their text and rendered by the
dispatcher when they go out (app.notifications.outbox.render_due), so the booking can
be written together with its messages in one statement (migration 0009): the subject
and bodies become nullable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = {"subject": sa.String(length=200), "body_text": sa.Text(), "body_html": sa.Text()}


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        for name, type_ in _COLUMNS.items():
            batch.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    waiting = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM outbox_messages WHERE subject IS NULL")
    )
    if waiting:
        raise RuntimeError(
            f"{waiting} outbox messages are still waiting to be rendered and sent; let the "
            "dispatcher send them (or cancel them) before downgrading below 0008"
        )
    with op.batch_alter_table("outbox_messages") as batch:
        for name, type_ in _COLUMNS.items():
            batch.alter_column(name, existing_type=type_, nullable=False)
