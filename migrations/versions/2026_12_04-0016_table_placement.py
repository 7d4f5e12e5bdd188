"""tables: where the floor plan draws each table

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 10:00:00

- `pos_x`, `pos_y`: the table's corner on the floor plan's grid (0 to 1000 units), both
  null while it is not placed yet.
- `width`, `height` (1 to 200 units), `shape` (round, square, rect) and `rotation` (0 to
  359 degrees).

Every existing table is given a footprint fitting its seats (2x2 up to four, one unit
wider for each two more: app.floor.models.default_size) and a place on a grid, five to a
row in order of number, so a fresh install (its 20 seeded tables) shows a floor plan at
once. The downgrade drops the columns.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHAPES = ("round", "square", "rect")
PER_ROW = 5
GAP = 2  # grid units between tables, and around the plan
MARGIN = 2


def _size(capacity: int) -> tuple[int, int]:
    """As app.floor.models.default_size (a migration keeps its own copy of the rule)."""
    return max(2, (capacity + 1) // 2), 2


def upgrade() -> None:
    with op.batch_alter_table("tables") as batch:
        batch.add_column(sa.Column("pos_x", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pos_y", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("width", sa.Integer(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("height", sa.Integer(), nullable=False, server_default="2"))
        batch.add_column(
            sa.Column(
                "shape",
                sa.Enum(*SHAPES, name="table_shape", native_enum=False, create_constraint=True,
                        length=16),
                nullable=False,
                server_default="square",
            )
        )  # fmt: skip
        batch.add_column(sa.Column("rotation", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint(
            batch.f("ck_tables_position_whole"), "(pos_x IS NULL) = (pos_y IS NULL)"
        )
        batch.create_check_constraint(
            batch.f("ck_tables_position_range"),
            "pos_x BETWEEN 0 AND 1000 AND pos_y BETWEEN 0 AND 1000",
        )
        batch.create_check_constraint(
            batch.f("ck_tables_size_range"), "width BETWEEN 1 AND 200 AND height BETWEEN 1 AND 200"
        )
        batch.create_check_constraint(
            batch.f("ck_tables_rotation_range"), "rotation BETWEEN 0 AND 359"
        )

    # The default layout: a grid in order of table number, each cell as wide as the widest
    # table (capped so that the plan stays on the grid) and a row apart.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, capacity FROM tables ORDER BY table_number")).all()
    if not rows:
        return
    sizes = {table_id: _size(capacity) for table_id, capacity in rows}
    cell_w = max(w for w, _ in sizes.values()) + GAP
    cell_h = max(h for _, h in sizes.values()) + GAP
    placed = []
    for index, (table_id, _capacity) in enumerate(rows):
        width, height = sizes[table_id]
        x = MARGIN + (index % PER_ROW) * cell_w
        y = MARGIN + (index // PER_ROW) * cell_h
        if x > 1000 or y > 1000:
            x = y = None  # more tables than the grid holds: left for the admin to place
        placed.append({
            "id": table_id, "x": x, "y": y, "w": width, "h": height,
            "shape": "square" if width == height else "rect",
        })  # fmt: skip
    bind.execute(
        sa.text(
            "UPDATE tables SET pos_x = :x, pos_y = :y, width = :w, height = :h, shape = :shape "
            "WHERE id = :id"
        ),
        placed,
    )


def downgrade() -> None:
    with op.batch_alter_table("tables") as batch:
        batch.drop_constraint(batch.f("ck_tables_rotation_range"), type_="check")
        batch.drop_constraint(batch.f("ck_tables_size_range"), type_="check")
        batch.drop_constraint(batch.f("ck_tables_position_range"), type_="check")
        batch.drop_constraint(batch.f("ck_tables_position_whole"), type_="check")
        batch.drop_constraint(batch.f("ck_tables_table_shape"), type_="check")
        for column in ("rotation", "shape", "height", "width", "pos_y", "pos_x"):
            batch.drop_column(column)
