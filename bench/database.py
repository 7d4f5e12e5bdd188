"""The scratch database: a temporary SQLite file or a PostgreSQL database created next to
BENCH_POSTGRES_URL on 127.0.0.1 and dropped afterwards; migrated with the app's own
`migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator

from bench.common import HOST, log

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SCRATCH_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_loopback(url: str) -> None:
    from sqlalchemy.engine import make_url

    host = make_url(url).host
    if host and host not in LOOPBACK_NAMES:
        raise SystemExit(f"bench: refusing to use {host!r}: the bench only talks to {HOST}")


async def _pg_admin(base_url: str, statements: list[str]) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_database(kind: str, postgres_url: str, name: str) -> Iterator[str]:
    """Yield the URL of a new empty database; drop it (or delete the file) afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="restaurant-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return

    from sqlalchemy.engine import make_url

    check_loopback(postgres_url)
    base = make_url(postgres_url)
    if not SCRATCH_NAME.match(name) or name == base.database:
        raise SystemExit(f"bench: {name!r} cannot be the scratch database name")
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    log(f"bench: creating PostgreSQL database {name} on {base.host}:{base.port or 5432}")
    asyncio.run(_pg_admin(postgres_url, [drop, f'CREATE DATABASE "{name}"']))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(postgres_url, [drop]))
        log(f"bench: dropped database {name}")


def migrate(url: str) -> None:
    from app.cli import migrate as app_migrate

    started = time.perf_counter()
    app_migrate(url)
    log(f"bench: migrated ({time.perf_counter() - started:.1f} s)")
