"""floor events: what the host stand's live stream reads

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 11:00:00

`floor_events` gets a row for every table or booking created, changed or deleted
(`kind` table or booking, `subject_id`, `change` created, updated or deleted), written by
triggers in the transaction of the change, whoever makes it: the ORM, PostgreSQL's
book_table function (the fast booking path), the statement layer (a changed booking's
MOVE_IF_FREE), a script. GET /api/floor/stream
follows it by id (app.streams); housekeeping deletes rows after two days. On SQLite the
ids are AUTOINCREMENT, so an id is never handed out twice.

SQLite drops a table's triggers with the table: a later migration that rebuilds `tables`
or `bookings` in batch mode must create these triggers again (tests/floor/test_stream.py
checks that a plain SQL change at head still writes an event).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECTS = {"tables": "table", "bookings": "booking"}
CHANGES = {"INSERT": ("created", "NEW"), "UPDATE": ("updated", "NEW"), "DELETE": ("deleted", "OLD")}

_PG_FUNCTION = """
CREATE FUNCTION floor_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_id := OLD.id;
    ELSE
        v_id := NEW.id;
    END IF;
    INSERT INTO floor_events (kind, subject_id, change, created_at)
    VALUES (TG_ARGV[0], v_id,
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated'
                       ELSE 'deleted' END,
            now());
    RETURN NULL;
END $$
"""
# SQLite: the instant as SQLAlchemy stores a UTCDateTime there (naive UTC, microseconds).
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def upgrade() -> None:
    op.create_table(
        "floor_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('table', 'booking')", name=op.f("ck_floor_events_kind")),
        sa.CheckConstraint(
            "change IN ('created', 'updated', 'deleted')", name=op.f("ck_floor_events_change")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_floor_events_created_at"), "floor_events", ["created_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table, kind in SUBJECTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_floor_event AFTER INSERT OR UPDATE OR DELETE ON "
                f"{table} FOR EACH ROW EXECUTE FUNCTION floor_event('{kind}')"
            )
        return
    for table, kind in SUBJECTS.items():
        for operation, (change, row) in CHANGES.items():
            op.execute(
                f"CREATE TRIGGER {table}_floor_event_{operation.lower()} AFTER {operation} "
                f"ON {table} BEGIN INSERT INTO floor_events (kind, subject_id, change, "
                f"created_at) VALUES ('{kind}', {row}.id, '{change}', {_SQLITE_NOW}); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SUBJECTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_floor_event ON {table}")
        op.execute("DROP FUNCTION IF EXISTS floor_event()")
    else:
        for table in SUBJECTS:
            for operation in CHANGES:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_floor_event_{operation.lower()}")
    op.drop_index(op.f("ix_floor_events_created_at"), table_name="floor_events")
    op.drop_table("floor_events")
