"""The fast statement layer: Core statements built once, run on a plain connection.

The hot paths (availability checks and booking creation) skip the ORM session. A `Query`
is compiled once per dialect; on PostgreSQL it is sent as asyncpg SQL straight to the
driver connection the pool hands out (`NativeConn`, see app.db.checkout): no session, no
per-call compilation or cache lookup, no greenlet hop per statement. On SQLite, and on an
ORM session's connection, it runs through SQLAlchemy Core (`CoreConn`). Code shared by
the hot paths and ordinary routes takes a `Conn`; a route holding a session passes
`await session_conn(session)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Native:
    sql: str
    names: tuple[str, ...]  # parameter names in positional ($1, $2, ...) order
    processors: tuple[Processor, ...]
    defaults: dict[str, Any]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, converter)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = params[name] if name in params else self.defaults[name]
            out.append(value if process is None else process(value))
        return out

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:
            return tuple(record)
        values = list(record)
        for index, process in self.results:
            values[index] = process(values[index])
        return tuple(values)


class Query:
    """A Core statement built once, run with `Conn.fetch` / `fetchval` / `execute`.

    Its parameters are named bind parameters; IN lists that expand per call are not
    supported (write them as constants or joins). For a plain `insert(table)`, `columns`
    names the columns given, as in an executemany."""

    def __init__(self, statement: Executable, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._native: dict[str, _Native] = {}

    def native(self, dialect: Dialect) -> _Native:
        compiled = self._native.get(dialect.name)
        if compiled is None:
            compiled = self._native[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Native:
        clause = cast(ClauseElement, self.statement)
        compiled = cast(SQLCompiler, clause.compile(dialect=dialect, column_keys=self.columns))
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("Query does not support expanding IN parameters")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults are computed by SQLAlchemy's execution context,
            # which this path skips: the caller must give those columns.
            raise ValueError("Query needs a value for every column with a Python default")
        names = tuple(compiled.positiontup or ())
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        binds = [by_name[name] for name in names]
        columns = getattr(self.statement, "exported_columns", ())
        converters = (column.type.result_processor(dialect, None) for column in columns)
        return _Native(
            sql=compiled.string,
            names=names,
            processors=tuple(bind.type.bind_processor(dialect) for bind in binds),
            defaults={
                name: bind.effective_value
                for name, bind in zip(names, binds, strict=True)
                if not bind.required
            },
            results=tuple((i, convert) for i, convert in enumerate(converters) if convert),
        )


class Conn:
    """A connection for Query objects; one request's, in its transaction if it writes."""

    dialect_name: str

    @property
    def cache_key(self) -> str:
        """Names the database, for per-database caches (the venue's settings)."""
        raise NotImplementedError

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Run a statement that returns nothing, once or (given a list) for each set."""
        raise NotImplementedError

    async def commit(self) -> None:
        """End the write transaction (called by Database.connect)."""
        raise NotImplementedError

    async def fetchrow(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None:
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def fetchval(self, query: Query, params: Mapping[str, Any] | None = None) -> Any:
        row = await self.fetchrow(query, params)
        return None if row is None else row[0]


class CoreConn(Conn):
    """Through SQLAlchemy Core (SQLite, and sessions' connections on any database)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect_name = connection.dialect.name

    @property
    def cache_key(self) -> str:
        return str(self.connection.engine.url)

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        return (await self.connection.execute(query.statement, dict(params or {}))).all()

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        many = [dict(p) for p in params] if isinstance(params, Sequence) else dict(params)
        await self.connection.execute(query.statement, many)

    async def commit(self) -> None:
        await self.connection.commit()


class LazyConn(Conn):
    """A read connection taken at its first statement (an answer served from memory
    needs none), returned by `release()`. `connect` opens one (Database.connect)."""

    def __init__(
        self,
        connect: Callable[[], AbstractAsyncContextManager[Conn]],
        *,
        dialect_name: str,
        cache_key: str,
    ) -> None:
        self._connect = connect
        self.dialect_name = dialect_name
        self._cache_key = cache_key
        self._stack: AsyncExitStack | None = None
        self._conn: Conn | None = None

    @property
    def cache_key(self) -> str:
        return self._cache_key

    async def _connection(self) -> Conn:
        if self._conn is None:
            stack = AsyncExitStack()
            self._conn = await stack.enter_async_context(self._connect())
            self._stack = stack
        return self._conn

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        return await (await self._connection()).fetch(query, params)

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        await (await self._connection()).execute(query, params)

    async def release(self, error: BaseException | None = None) -> None:
        """Return the connection; given the request's error, Database.connect sees it."""
        stack, self._stack, self._conn = self._stack, None, None
        if stack is None:
            return
        if error is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(error), error, error.__traceback__)


def _driver_error(exc: Exception, sql: str) -> DBAPIError:
    """asyncpg's exception as the SQLAlchemy error the app's handlers know (orig kept)."""
    import asyncpg

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, exc)
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError | OSError):
        return OperationalError(sql, None, exc, connection_invalidated=True)
    return DBAPIError(sql, None, exc)


class NativeConn(Conn):
    """PostgreSQL: statements go straight to the asyncpg connection."""

    dialect_name = "postgresql"

    def __init__(self, driver: Any, dialect: Dialect, cache_key: str) -> None:
        self.driver = driver
        self.dialect = dialect
        self._cache_key = cache_key
        self.broken = False

    @property
    def cache_key(self) -> str:
        return self._cache_key

    async def _run(self, call: Any, sql: str, *args: Any) -> Any:
        import asyncpg

        try:
            return await call(sql, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            error = _driver_error(exc, sql)
            self.broken = self.broken or error.connection_invalidated
            raise error from exc

    async def fetch(
        self, query: Query, params: Mapping[str, Any] | None = None
    ) -> Sequence[Sequence[Any]]:
        native = query.native(self.dialect)
        records = await self._run(self.driver.fetch, native.sql, *native.args(params or {}))
        return [native.row(record) for record in records]

    async def execute(
        self, query: Query, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        native = query.native(self.dialect)
        if isinstance(params, Sequence):
            await self._run(self.driver.executemany, native.sql, [native.args(p) for p in params])
        else:
            await self._run(self.driver.execute, native.sql, *native.args(params))

    async def command(self, sql: str) -> None:
        await self._run(self.driver.execute, sql)

    async def commit(self) -> None:
        await self.command("COMMIT")


async def session_conn(session: AsyncSession) -> Conn:
    """A Conn on a session's connection, in its transaction, for shared Query code."""
    return CoreConn(await session.connection())
