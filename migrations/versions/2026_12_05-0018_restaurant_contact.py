"""restaurant settings: contact details an admin edits

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00

`phone` (E.164), `email`, `address` and `website` on `restaurant_settings`, all null:
null means the environment's RESTAURANT_PHONE, RESTAURANT_EMAIL, RESTAURANT_ADDRESS or
RESTAURANT_WEBSITE, so an existing install shows what it showed before until an admin
changes a detail (PATCH /restaurant). The downgrade drops the columns, and with them
what an admin set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("phone", 32), ("email", 320), ("address", 300), ("website", 300))


def upgrade() -> None:
    with op.batch_alter_table("restaurant_settings") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("restaurant_settings") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
