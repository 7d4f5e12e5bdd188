"""Signing in from a browser (the web app): the access token goes to the page, which
keeps it in memory; the refresh token never does. It lives in a cookie scripts cannot
read (HttpOnly), sent only over HTTPS outside development (Secure), never on a request
another site starts (SameSite=Strict), and only to these routes (Path=/auth/session).

Every route here also wants the `X-Requested-With` header: a page on another site cannot
send it without the browser first asking (a CORS preflight, which only CORS_ORIGINS
pass), so a forged form or link cannot sign someone in or out, or refresh. Rotation and
reuse detection are the API's own (app.auth.service.refresh): a refresh cookie used
twice revokes every token of that sign-in.

The live streams (GET /api/kitchen/stream, /api/floor/stream) are read with EventSource,
which cannot send an Authorization header, and a token in the URL would land in logs: a
signed-in staff page asks POST /auth/session/stream for a stream cookie (HttpOnly,
SameSite=Strict, Path=/api/) holding a ten-minute stream token that only those routes
accept (app.deps.StreamUser), and asks again before it (re)connects after that."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response, status
from pydantic import BaseModel, Field

from app.auth import security, service
from app.auth.exceptions import BadCredentials, InvalidRefreshToken
from app.auth.schemas import LoginJSON, TokenPair
from app.config import Settings
from app.deps import DeferredSessionDep, SessionDep, SettingsDep, StaffUser
from app.errors import Forbidden, TooManyRequests, Unauthorized, responses
from app.ratelimit import LimiterDep, failed_login_limits

COOKIE = "restaurant_refresh"
PATH = "/auth/session"
HEADER_VALUE = "restaurant-web"

router = APIRouter(prefix=PATH, tags=["auth"])


class CrossSiteRefused(Forbidden):
    default_message = (
        "Send the X-Requested-With: restaurant-web header (browser sign-in only answers "
        "requests from pages allowed to make them)"
    )


async def _same_site(
    x_requested_with: Annotated[
        str | None,
        Header(description="Must be `restaurant-web`: proves a page allowed by CORS sent it"),
    ] = None,
) -> None:
    if x_requested_with != HEADER_VALUE:
        raise CrossSiteRefused()


SameSite = Annotated[None, Depends(_same_site)]
RefreshCookie = Annotated[
    str | None, Cookie(alias=COOKIE, max_length=4096, description="Set by POST /auth/session")
]


class BrowserSession(BaseModel):
    """What the page keeps (in memory): the access token. The refresh token is in the
    cookie, out of the page's reach."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


def _answer(pair: TokenPair, response: Response, settings: Settings) -> BrowserSession:
    response.set_cookie(
        COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_token_days * 24 * 3600,
        path=PATH,
        secure=settings.environment != "development",
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return BrowserSession(access_token=pair.access_token, expires_in=pair.expires_in)


def _forget(response: Response, settings: Settings) -> None:
    for name, path in ((COOKIE, PATH), (security.STREAM_COOKIE, security.STREAM_COOKIE_PATH)):
        response.delete_cookie(
            name, path=path, secure=settings.environment != "development", httponly=True,
            samesite="strict",
        )  # fmt: skip


@router.post(
    "",
    response_model=BrowserSession,
    summary="Sign in from a browser: the access token in the body, the refresh token in a cookie",
    responses=responses(BadCredentials, CrossSiteRefused, TooManyRequests),
    name="session_start",
)
async def start(
    data: LoginJSON,
    _: SameSite,
    response: Response,
    session: DeferredSessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    request: Request,
) -> BrowserSession:
    async with failed_login_limits(limiter, request, data.email):
        pair = await service.login(session, data.email, data.password, settings=settings)
    return _answer(pair, response, settings)


@router.post(
    "/refresh",
    response_model=BrowserSession,
    summary="A new access token for the browser's sign-in (the cookie rotates)",
    responses=responses(InvalidRefreshToken, CrossSiteRefused),
    name="session_refresh",
)
async def refresh(
    _: SameSite,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    token: RefreshCookie = None,
) -> BrowserSession:
    if not token:
        raise InvalidRefreshToken("Not signed in (no refresh cookie)")
    pair = await service.refresh(session, token, settings=settings)
    return _answer(pair, response, settings)


@router.post(
    "/stream",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="A cookie for the live streams (staff): EventSource cannot send the access token",
    description="Sets `restaurant_stream` (HttpOnly, SameSite=Strict, Secure outside "
    "development, Path=/api/): a stream token valid ten minutes that GET "
    "/api/kitchen/stream and GET /api/floor/stream accept instead of the bearer token, "
    "and no other route does. The user is checked again whenever a stream opens with it. "
    "Ask again before (re)connecting once it has expired.",
    responses=responses(Unauthorized, Forbidden),
    name="session_stream",
)
async def stream_cookie(_: SameSite, staff: StaffUser, settings: SettingsDep) -> Response:
    token = security.stream_token(
        secret=settings.secret_key, user_id=staff.id, role=staff.role.value
    )
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    answer.set_cookie(
        security.STREAM_COOKIE,
        token,
        max_age=int(security.STREAM_TOKEN_LIFETIME.total_seconds()),
        path=security.STREAM_COOKIE_PATH,
        secure=settings.environment != "development",
        httponly=True,
        samesite="strict",
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out from the browser: the refresh token is revoked, its cookie and the "
    "stream cookie cleared",
    responses=responses(CrossSiteRefused),
    name="session_end",
)
async def end(
    _: SameSite, session: SessionDep, settings: SettingsDep, token: RefreshCookie = None
) -> Response:
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    if token:
        try:
            await service.logout(session, token, settings=settings)
        except InvalidRefreshToken:
            pass  # already invalid: signing out still clears the cookie
    _forget(answer, settings)
    return answer
