"""kitchen: stations (kitchen or bar) and undoing a move

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 16:00:00

- `restaurant_settings.bar_categories`: the menu categories whose tickets go to the bar
  (default ["drinks"]); every other category goes to the kitchen.
- `kitchen_tickets.station` (kitchen, bar). Existing tickets go to the kitchen, unless
  every dish on them is of a bar category.
- `kitchen_tickets.advanced_at`: when the ticket last moved forward (a move can be undone
  within a minute without a reason). Existing tickets have none.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATIONS = ("kitchen", "bar")
DEFAULT_BAR = '["drinks"]'


def _loaded(value: object) -> list:  # type: ignore[type-arg]
    """A JSON column as read through text(): already parsed (PostgreSQL) or a string."""
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])  # type: ignore[call-overload]


def upgrade() -> None:
    with op.batch_alter_table("restaurant_settings") as batch:
        batch.add_column(
            sa.Column("bar_categories", sa.JSON(), nullable=False, server_default=DEFAULT_BAR)
        )
    with op.batch_alter_table("kitchen_tickets") as batch:
        batch.add_column(
            sa.Column("station", sa.String(length=16), nullable=False, server_default="kitchen")
        )
        batch.add_column(
            sa.Column("advanced_at", app.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_check_constraint(
            op.f("ck_kitchen_tickets_ticket_station"), sa.column("station").in_(STATIONS)
        )

    # Tickets all of whose dishes are of a bar category go to the bar.
    bind = op.get_bind()
    row = bind.execute(sa.text("SELECT bar_categories FROM restaurant_settings")).first()
    bar = {str(c).lower() for c in _loaded(row[0])} if row else {"drinks"}
    categories = dict(
        bind.execute(
            sa.text(
                "SELECT oi.id, m.category FROM order_items oi "
                "JOIN menu_items m ON m.id = oi.menu_item_id"
            )
        ).all()
    )
    to_bar = []
    for ticket_id, items in bind.execute(sa.text("SELECT id, items FROM kitchen_tickets")):
        lines = _loaded(items)
        if lines and all(categories.get(line.get("order_item_id")) in bar for line in lines):
            to_bar.append({"id": ticket_id})
    if to_bar:
        bind.execute(sa.text("UPDATE kitchen_tickets SET station = 'bar' WHERE id = :id"), to_bar)


def downgrade() -> None:
    with op.batch_alter_table("kitchen_tickets") as batch:
        batch.drop_constraint(op.f("ck_kitchen_tickets_ticket_station"), type_="check")
        batch.drop_column("advanced_at")
        batch.drop_column("station")
    with op.batch_alter_table("restaurant_settings") as batch:
        batch.drop_column("bar_categories")
