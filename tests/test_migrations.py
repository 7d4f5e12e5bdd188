from __future__ import annotations

import asyncio

from alembic import command

from app.cli import alembic_config
from tests.conftest import TestDatabase


async def test_models_and_migrations_agree(db: TestDatabase) -> None:
    """`alembic check` raises if autogenerate would produce any operation."""
    await asyncio.to_thread(command.check, alembic_config(db.url))
