"""The request's session: one transaction per request, committed before the response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_deferred_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Like get_session, but no write lock up front, whatever the method: for writes that
    first do slow work outside the database (hashing a password) and then insert. On SQLite
    the write lock is taken by the first write; the route must not read, then write, in one
    transaction where another writer could come between (end the read with a commit)."""
    database: Database = request.app.state.db
    async with database.deferred() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    database.wrote()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit when the route returns, roll back on error.

    Declared with scope="function" (see deps.SessionDep) so the commit finishes before
    the response is sent: a client told 201 will find what it created.
    """
    database: Database = request.app.state.db
    writing = request.method in WRITE_METHODS
    queue = database.write_queue if writing else None
    async with AsyncExitStack() as stack:
        if queue is not None:
            await stack.enter_async_context(queue)
        session = await stack.enter_async_context(
            (database.writer if writing else database.reader)()
        )
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    if writing:
        database.wrote()
