"""Alembic environment: async engine, URL from settings unless the caller set one."""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy.engine import Connection

from app.config import get_settings
from app.db.engine import create_engine
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Set SQLite's foreign-key enforcement on the driver connection itself (SQLAlchemy
    would begin a transaction for its own execute, and inside one the pragma does
    nothing), and make sure it took."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        cursor.execute("PRAGMA foreign_keys")
        if bool(cursor.fetchone()[0]) != on:
            raise RuntimeError("SQLite migrations must start outside a transaction")
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        # Our SQLite connections leave transactions to SQLAlchemy (app.db), so DDL runs
        # in them too: all the migrations of a run commit together, or none does.
        transactional_ddl=True,
    )
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    # SQLite changes a table by rebuilding it (batch mode), and dropping the old copy of a
    # table others refer to would fire their ON DELETE actions. SQLite's own procedure for
    # such changes: foreign keys off, and checked before the transaction commits.
    _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            migrations = context.get_context()
            before = migrations.get_current_heads()
            context.run_migrations()
            if migrations.get_current_heads() != before:  # something was applied
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    finally:
        _sqlite_foreign_keys(connection, on=True)


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        await connection.run_sync(_run)
        return
    engine = create_engine(_url())
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
