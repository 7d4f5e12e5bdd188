"""users: a deleted user's id is never given to a new one (SQLite)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 00:30:00

An access token names its user by id (`sub`). Without AUTOINCREMENT, SQLite gives a new
row the largest id in the table plus one, so after the newest user was deleted the next
one to register got the same id, and the deleted user's unexpired access token (and any
Idempotency-Key replay stored under that id) worked for the new account. PostgreSQL's
sequence never hands an id out twice, so there this migration does nothing.

SQLite cannot add AUTOINCREMENT to a table in place: `users` is rebuilt and its rows
copied, ids and all. migrations/env.py runs SQLite migrations with foreign keys off (a
DROP TABLE with them on would delete every user's refresh tokens and detach their
bookings on the way) and checks them when it is done. The downgrade leaves the table as
it is: going back must not make ids reusable again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    pass
