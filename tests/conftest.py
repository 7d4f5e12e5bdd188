"""Test fixtures: every database test runs on SQLite and, when configured, PostgreSQL.

- SQLite always runs (a scratch file per session, migrated with Alembic).
- PostgreSQL runs when TEST_POSTGRES_URL is set: a scratch database is created next to
  the one named, migrated, and dropped at the end. With REQUIRE_POSTGRES=1 a missing or
  unreachable PostgreSQL fails the run instead of skipping.
- Each test starts from the freshly migrated state (all rows reset to what the
  migrations seeded).
"""

from __future__ import annotations

import asyncio
import os
import traceback
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth import security
from app.auth.models import Role, User
from app.cli import alembic_config
from app.config import Settings
from app.db.engine import Database
from app.guests.models import Guest
from app.main import create_app
from app.models import Base
from app.venue import service as venue_service
from tests.answers import recording

PG_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES", "").strip() in {"1", "true", "yes"}
TEST_SECRET = "test-secret-key-" + "x" * 40
_pg_skip_reason: list[str] = []


def _skip_or_fail_pg(reason: str) -> None:
    if REQUIRE_PG:
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    if not _pg_skip_reason:
        _pg_skip_reason.append(reason)
    pytest.skip(f"PostgreSQL test skipped: {reason}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _pg_skip_reason:
        terminalreporter.write_sep(
            "=",
            f"PostgreSQL tests were SKIPPED ({_pg_skip_reason[0]}); ran on SQLite only",
            yellow=True,
        )
    elif PG_URL:
        terminalreporter.write_line("Database tests ran on SQLite and PostgreSQL.")
    if not os.environ.get("TEST_REDIS_URL"):
        terminalreporter.write_line(
            "Rate limits shared through Redis were not tested (TEST_REDIS_URL is not set)."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.postgres_only` tests are not collected for the SQLite backend, and
    `@pytest.mark.runs_last` tests run after all the others."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("test_db") if callspec else None
        if item.get_closest_marker("postgres_only") and backend == "sqlite":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # `@pytest.mark.runs_last` tests look back at what the others did (tests/answers.py).
    items[:] = [i for i in keep if not i.get_closest_marker("runs_last")] + [
        i for i in keep if i.get_closest_marker("runs_last")
    ]


def run_migrations(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


class NestedCheckouts:
    """Records each time one asyncio task takes a second pooled connection while it still
    holds one. With every connection in use (DB_MAX_OVERFLOW is 0 by default), such a
    request would wait for a connection that only it can free: DB_POOL_TIMEOUT, then 503.
    The `db` fixture fails any test in which this happened."""

    def __init__(self, database: Database) -> None:
        self.held: Counter[asyncio.Task[Any]] = Counter()
        self.found: list[str] = []
        event.listen(database.engine.sync_engine, "checkout", self._checkout)
        event.listen(database.engine.sync_engine, "checkin", self._checkin)

    def _checkout(self, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        task = asyncio.current_task()
        if task is None:
            return
        record.info["held_by"] = task
        self.held[task] += 1
        if self.held[task] > 1:
            self.found.append("".join(traceback.format_stack(limit=30)))

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        task = record.info.pop("held_by", None)
        if task is not None:
            self.held[task] -= 1
            if self.held[task] <= 0:
                del self.held[task]


@dataclass
class TestDatabase:
    """A migrated scratch database and the rows the migrations seeded."""

    __test__ = False
    backend: str
    url: str
    database: Database
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    nested: NestedCheckouts | None = None

    async def take_snapshot(self) -> None:
        async with self.database.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(select(table))).mappings().all()
                self.snapshot[table.name] = [dict(r) for r in rows]

    async def reset(self) -> None:
        if self.backend == "postgres":
            async with self.database.engine.begin() as conn:
                await self._reset_postgres(conn)
            return
        # SQLite: foreign keys off while emptying, so ON DELETE actions do not fire
        # half-way (the pragma only takes effect outside a transaction).
        async with self.database.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.execute("PRAGMA foreign_keys=OFF")
            try:
                async with conn.begin():
                    for table in reversed(Base.metadata.sorted_tables):
                        await conn.execute(table.delete())
                    await self._restore(conn)
            finally:
                await raw.execute("PRAGMA foreign_keys=ON")

    async def _restore(self, conn: Any) -> None:
        for table in Base.metadata.sorted_tables:
            if self.snapshot.get(table.name):
                await conn.execute(insert(table), self.snapshot[table.name])

    async def _reset_postgres(self, conn: Any) -> None:
        tables = Base.metadata.sorted_tables
        names = ", ".join(f'"{t.name}"' for t in tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await self._restore(conn)
        for table in tables:
            if self.snapshot.get(table.name) and "id" in table.c:
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'(SELECT max(id) FROM "{table.name}"))'
                    )
                )


@asynccontextmanager
async def _postgres_scratch(suffix: str = "") -> AsyncIterator[str]:
    """A new database beside TEST_POSTGRES_URL's, dropped at the end; a test that needs
    one of its own gives a `suffix`, so it never drops the session's shared one."""
    base = make_url(PG_URL)
    name = f"{base.database or 'test'}_pytest_{os.getpid()}{suffix}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await admin.dispose()
        _skip_or_fail_pg(f"cannot reach PostgreSQL at TEST_POSTGRES_URL ({type(exc).__name__})")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def _sqlite_scratch(tmp: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def test_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    backend: str = request.param
    if backend == "postgres" and not PG_URL:
        _skip_or_fail_pg("TEST_POSTGRES_URL is not set")
    scratch = (
        _postgres_scratch()
        if backend == "postgres"
        else _sqlite_scratch(tmp_path_factory.mktemp("sqlite"))
    )
    async with scratch as url:
        await asyncio.to_thread(run_migrations, url)
        database = Database.from_url(url, pool_size=20, max_overflow=40)
        tdb = TestDatabase(backend=backend, url=url, database=database)
        await tdb.take_snapshot()
        tdb.nested = NestedCheckouts(database)
        try:
            yield tdb
        finally:
            await database.dispose()


@pytest.fixture
async def db(test_db: TestDatabase) -> AsyncIterator[TestDatabase]:
    await test_db.reset()
    venue_service.clear_cache()  # the rows were reset behind the settings cache's back
    assert test_db.nested is not None
    test_db.nested.found.clear()
    yield test_db
    if test_db.nested.found:
        pytest.fail(
            "a task took a second pooled connection while holding one:\n" + test_db.nested.found[0],
            pytrace=False,
        )


@pytest.fixture
def backend(db: TestDatabase) -> str:
    return db.backend


def make_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": url,
        "secret_key": TEST_SECRET,
        "bcrypt_rounds": 4,
        "rate_limit_login": "1000/minute",
        "rate_limit_booking": "1000/minute",
        "rate_limit_availability": "10000/minute",
        "rate_limit_register": "1000/minute",
        "rate_limit_password_reset": "1000/minute",
        "rate_limit_rejected": "10000/minute",
        "log_level": "WARNING",
        "outbox_in_process": False,
        "gc_tuning": False,  # the test process builds hundreds of apps; keep its GC as is
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


@pytest.fixture
def settings(db: TestDatabase, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(db.url, **settings_overrides)


@pytest.fixture
async def app(settings: Settings, db: TestDatabase) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=db.database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=recording(app), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


UserFactory = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
def make_user(db: TestDatabase, settings: Settings) -> UserFactory:
    """Insert a user directly and return it with an Authorization header for it."""

    async def factory(
        role: Role = Role.customer,
        *,
        email: str | None = None,
        password: str = "password123",
        active: bool = True,
    ) -> tuple[User, dict[str, str]]:
        email = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
        async with db.database.writer() as session, session.begin():
            user = User(
                email=email,
                name=f"Test {role.value}",
                role=role,
                is_active=active,
                hashed_password=await security.hash_password(password, 4),
            )
            session.add(user)
            await session.flush()
            # The guest record an account's first booking would make: PostgreSQL's
            # single-statement booking (book_table) needs it from the first booking on.
            session.add(Guest(name=user.name, email=user.email, user_id=user.id, tags=[]))
        token, _ = security.encode_token(
            secret=settings.secret_key,
            user_id=user.id,
            role=role.value,
            token_type="access",
            lifetime=timedelta(minutes=15),
        )
        return user, {"Authorization": f"Bearer {token}"}

    return factory


@pytest.fixture
async def guest(make_user: UserFactory) -> dict[str, str]:
    """Authorization headers of a new customer."""
    return (await make_user(Role.customer))[1]


@pytest.fixture
async def staff(make_user: UserFactory) -> dict[str, str]:
    """Authorization headers of a new staff member."""
    return (await make_user(Role.staff))[1]


@pytest.fixture
async def admin(make_user: UserFactory) -> dict[str, str]:
    """Authorization headers of a new admin."""
    return (await make_user(Role.admin))[1]
