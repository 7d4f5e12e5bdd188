"""bill percentages on closed orders

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 09:23:14.441668
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("service_charge_percent", sa.Numeric(precision=5, scale=2), nullable=True),
    )
    op.add_column(
        "orders", sa.Column("tax_percent", sa.Numeric(precision=5, scale=2), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("tax_percent")
        batch.drop_column("service_charge_percent")
