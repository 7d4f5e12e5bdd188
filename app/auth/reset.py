"""Password reset: a single-use link by e-mail (app.links), then a new password.

Asking tells a stranger nothing: the route answers 202 before the address is even looked
up (send_reset_link runs after the answer has been sent), so the answer and its timing
are the same for an unknown address, an inactive account and an active one. Only an
active account gets the e-mail, and at most one every RESET_EMAIL_EVERY, so nobody can
fill its owner's inbox.

The link names the account and a fingerprint of its password hash: setting a new
password changes the hash, so the link works once, and it expires after
PASSWORD_RESET_MINUTES. Setting one signs the account out everywhere (every refresh
token is revoked)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import passwords, security
from app.auth.exceptions import InvalidResetLink
from app.auth.models import User
from app.auth.service import revoke_user_tokens
from app.config import Settings
from app.db.engine import Database
from app.errors import InvalidInput
from app.links import Links, password_fingerprint
from app.notifications import outbox
from app.notifications.models import MessageKind

log = logging.getLogger("app.auth.reset")

RESET_EMAIL_EVERY = timedelta(minutes=5)


@asynccontextmanager
async def _writer(database: Database) -> AsyncIterator[AsyncSession]:
    """A write transaction outside a request, queued as a request's would be (SQLite's
    one writer at a time)."""
    async with AsyncExitStack() as stack:
        if database.write_queue is not None:
            await stack.enter_async_context(database.write_queue)
        yield await stack.enter_async_context(database.writer())


async def send_reset_link(
    database: Database, email: str, *, settings: Settings, now: datetime
) -> bool:
    """Queue the reset e-mail if `email` is an active account's and it had none in the
    last RESET_EMAIL_EVERY. Returns whether one was queued."""
    async with database.reader() as session:
        user_id = await session.scalar(
            select(User.id).where(User.email == email.lower(), User.is_active.is_(True))
        )
    if user_id is None:
        return False
    async with _writer(database) as session:
        # The account's row locked: two requests at once queue one e-mail, not two.
        user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None or not user.is_active:
            return False
        since = now - RESET_EMAIL_EVERY
        if await outbox.sent_lately(session, MessageKind.password_reset, user.email, since=since):
            return False
        await outbox.account_message(
            session, MessageKind.password_reset, settings=settings, recipient=user.email,
            name=user.name, now=now,
            reset_url=Links(settings).reset_url(user.id, user.hashed_password),
            minutes=settings.password_reset_minutes,
        )  # fmt: skip
        await session.commit()
    database.wrote()
    return True


async def send_reset_link_after_answer(
    database: Database, email: str, *, settings: Settings, now: datetime
) -> None:
    """send_reset_link as a background task: the client has its answer already, so a
    failure is logged (the person can ask again), not raised."""
    try:
        await send_reset_link(database, email, settings=settings, now=now)
    except Exception:
        log.exception("password reset: the e-mail could not be queued")


async def reset_password(
    session: AsyncSession, token: str, password: str, *, settings: Settings
) -> None:
    """Set the password of the account a valid, unused, unexpired link names, and revoke
    its refresh tokens. Any other token is InvalidResetLink, the same for every reason,
    so it tells nothing about the account.

    The hash is made outside any transaction; the write then succeeds only if the
    password hash is still the one the link was made from, in one UPDATE, so of two uses
    of one link at once exactly one wins."""
    claims = Links(settings).read_reset_token(token)
    if claims is None:
        raise InvalidResetLink()
    row = (
        await session.execute(
            select(User.email, User.hashed_password).where(
                User.id == claims.user_id, User.is_active.is_(True)
            )
        )
    ).one_or_none()
    await session.commit()  # end the read: nothing is held while hashing
    if row is None or password_fingerprint(row.hashed_password) != claims.fingerprint:
        raise InvalidResetLink()
    reason = passwords.problem(password, email=row.email)
    if reason:
        raise InvalidInput(reason)
    hashed = await security.hash_password(password, settings.bcrypt_rounds)
    changed = await session.execute(
        update(User)
        .where(
            User.id == claims.user_id,
            User.is_active.is_(True),
            User.hashed_password == row.hashed_password,
        )
        .values(hashed_password=hashed)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidResetLink()
    await revoke_user_tokens(session, claims.user_id)
