"""Annotated dependency aliases used by every router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Cookie, Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import security
from app.auth.exceptions import AccountInactive
from app.auth.models import Role, User
from app.config import Settings
from app.db.sessions import get_deferred_session, get_session
from app.errors import Forbidden, Unauthorized

# Ids are 32-bit in the database; a larger number is a 422, not a database error.
MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]  # in a JSON body: a JSON number

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# scope="function": the commit runs before the response is sent (see app.db.sessions.get_session).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For login and registration: the password hash is checked or made outside any transaction.
DeferredSessionDep = Annotated[AsyncSession, Depends(get_deferred_session, scope="function")]


def token_user_id(settings: Settings, token: str | None) -> int:
    """The user id of a valid access token, or 401."""
    if not token:
        raise Unauthorized("Not authenticated")
    try:
        claims = security.decode_access_token(token, secret=settings.secret_key)
    except security.InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    return claims.sub


async def get_token_user_id(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> int:
    return token_user_id(settings, token)


# The user id of a valid access token, before any database work (rate limits key on it).
TokenUserId = Annotated[int, Depends(get_token_user_id)]


async def _active_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AccountInactive()
    return user


async def get_current_user(user_id: TokenUserId, session: SessionDep) -> User:
    return await _active_user(session, user_id)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_staff_user(user: CurrentUser) -> User:
    if not user.is_staff:
        raise Forbidden("Staff or admin role required")
    return user


async def get_admin_user(user: CurrentUser) -> User:
    if user.role != Role.admin:
        raise Forbidden("Admin role required")
    return user


StaffUser = Annotated[User, Depends(get_staff_user)]
AdminUser = Annotated[User, Depends(get_admin_user)]

StreamCookie = Annotated[
    str | None,
    Cookie(
        alias=security.STREAM_COOKIE,
        max_length=4096,
        description="Set by POST /auth/session/stream, for a browser's EventSource (which "
        "cannot send an Authorization header); only the live streams read it",
    ),
]


async def get_stream_user(
    settings: SettingsDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    cookie: StreamCookie = None,
) -> User:
    """Staff opening a live stream: by access token as on every route or, from a browser,
    by the stream cookie (a bearer token, when sent, decides). Either way the user is read
    again now: still there, active, staff or admin. No other route reads the cookie."""
    if token or not cookie:
        user_id = token_user_id(settings, token)
    else:
        try:
            claims = security.decode_token(
                cookie, secret=settings.secret_key, expected_type="stream"
            )
        except security.InvalidToken as exc:
            raise Unauthorized(f"Stream cookie: {exc}") from exc
        user_id = claims.sub
    return await get_staff_user(await _active_user(session, user_id))


# The live streams' user: a staff access token, or the stream cookie.
StreamUser = Annotated[User, Depends(get_stream_user)]


async def get_now(request: Request) -> datetime:
    """The current instant (UTC). Tests replace app.state.clock to drive time."""
    now: datetime = request.app.state.clock()
    return now


Now = Annotated[datetime, Depends(get_now)]
