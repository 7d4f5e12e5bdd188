"""Auth routes (/auth/*) and user routes (/users/*).

/users/register and /users/login are the same operations as /auth/register and
/auth/login, for clients that expect them under /users.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import reset, service
from app.auth.exceptions import (
    BadCredentials,
    InvalidRefreshToken,
    InvalidResetLink,
    LastAdmin,
    UserNotFound,
    WrongCurrentPassword,
)
from app.auth.models import Role
from app.auth.schemas import (
    LoginJSON,
    MeUpdate,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    Registered,
    ResetRequested,
    TokenPair,
    UserAdminUpdate,
    UserCreate,
    UserOut,
    UserPage,
)
from app.deps import (
    MAX_ID,
    AdminUser,
    CurrentUser,
    DeferredSessionDep,
    IdPath,
    Now,
    SessionDep,
    SettingsDep,
)
from app.errors import Forbidden, TooManyRequests, Unauthorized, responses
from app.ratelimit import LimiterDep, failed_login_limits, password_reset_limit, register_limit

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])

ADMIN_ERRORS = responses(Unauthorized, Forbidden)


REGISTER_DESCRIPTION = (
    "Always 202 with the same answer, whether the address was free or already had an "
    "account, so that nobody learns which addresses have accounts: a new account is ready "
    "at once (sign in with POST /auth/login) and gets a welcome e-mail; an address that "
    "already has one gets an e-mail saying someone tried, and nothing changes."
)


@auth_router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Registered,
    summary="Register a guest account",
    description=REGISTER_DESCRIPTION,
    responses=responses(TooManyRequests),
)
@users_router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Registered,
    summary="Register a guest account (same as POST /auth/register)",
    description=REGISTER_DESCRIPTION,
    responses=responses(TooManyRequests),
)
async def register(
    data: UserCreate,
    session: DeferredSessionDep,
    settings: SettingsDep,
    now: Now,
    _limited: Annotated[None, Depends(register_limit)],
) -> Registered:
    await service.register(session, data, settings=settings, now=now)
    return Registered(email=data.email)


@auth_router.post(
    "/token",
    response_model=TokenPair,
    summary="Log in with the OAuth2 password form (username = e-mail)",
    responses=responses(BadCredentials, TooManyRequests),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: DeferredSessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    request: Request,
) -> TokenPair:
    async with failed_login_limits(limiter, request, form.username):
        return await service.login(session, form.username, form.password, settings=settings)


@auth_router.post(
    "/login",
    response_model=TokenPair,
    summary="Log in with JSON {email, password}",
    responses=responses(BadCredentials, TooManyRequests),
    name="login",
)
@users_router.post(
    "/login",
    response_model=TokenPair,
    summary="Log in with JSON {email, password} (same as POST /auth/login)",
    responses=responses(BadCredentials, TooManyRequests),
    name="login",
)
async def login_json(
    data: LoginJSON,
    session: DeferredSessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    request: Request,
) -> TokenPair:
    async with failed_login_limits(limiter, request, data.email):
        return await service.login(session, data.email, data.password, settings=settings)


@auth_router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for a new pair (rotation)",
    responses=responses(InvalidRefreshToken),
)
async def refresh(data: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    return await service.refresh(session, data.refresh_token, settings=settings)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a refresh token",
    responses=responses(InvalidRefreshToken),
)
async def logout(data: RefreshRequest, session: SessionDep, settings: SettingsDep) -> Response:
    await service.logout(session, data.refresh_token, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResetRequested,
    summary="Ask for a password-reset link by e-mail",
    description=(
        "Always 202 with the same answer, sent before the address is looked up, so "
        "nobody learns which addresses have accounts. An active account gets an e-mail "
        "(at most one every few minutes) with a link, `{PUBLIC_BASE_URL}/account/reset?"
        "token=...`, that works once for PASSWORD_RESET_MINUTES; the web page sends its "
        "token to POST /auth/password-reset/confirm."
    ),
    responses=responses(TooManyRequests),
)
async def request_password_reset(
    data: PasswordResetRequest,
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    now: Now,
    _limited: Annotated[None, Depends(password_reset_limit)],
) -> ResetRequested:
    background.add_task(
        reset.send_reset_link_after_answer, request.app.state.db, data.email,
        settings=settings, now=now,
    )  # fmt: skip
    return ResetRequested(email=data.email)


@auth_router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Choose a new password with the token of a reset link",
    description=(
        "The password follows the same rules as at registration. Every sign-in of the "
        "account elsewhere ends (its refresh tokens are revoked). A token that is wrong, "
        "expired or used already is a 400 saying so, the same for each."
    ),
    responses=responses(InvalidResetLink),
)
async def confirm_password_reset(
    data: PasswordResetConfirm, session: DeferredSessionDep, settings: SettingsDep
) -> Response:
    await reset.reset_password(session, data.token, data.password, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get(
    "/me", response_model=UserOut, summary="The signed-in user", responses=responses(Unauthorized)
)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@users_router.patch(
    "/me",
    response_model=UserOut,
    summary="Change my name or password (the password needs current_password)",
    responses=responses(Unauthorized, WrongCurrentPassword),
)
async def update_me(
    data: MeUpdate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> UserOut:
    return UserOut.model_validate(await service.update_me(session, user, data, settings=settings))


@users_router.get("", response_model=UserPage, include_in_schema=False)  # as /users/
@users_router.get(
    "/",
    response_model=UserPage,
    summary="List users (admin)",
    responses=ADMIN_ERRORS,
    name="list",
)
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> UserPage:
    users, total = await service.list_users(session, role=role, limit=limit, offset=offset)
    return UserPage(
        items=[UserOut.model_validate(u) for u in users], total=total, limit=limit, offset=offset
    )


@users_router.get(
    "/{user_id:int}",
    response_model=UserOut,
    summary="One user (admin)",
    responses={**ADMIN_ERRORS, **responses(UserNotFound)},
    name="get",
)
async def get_user(user_id: IdPath, _admin: AdminUser, session: SessionDep) -> UserOut:
    return UserOut.model_validate(await service.get_user(session, user_id))


@users_router.patch(
    "/{user_id:int}",
    response_model=UserOut,
    summary="Change a user's role or active flag (admin)",
    responses={**ADMIN_ERRORS, **responses(UserNotFound, LastAdmin)},
    name="update",
)
async def update_user(
    user_id: IdPath, data: UserAdminUpdate, _admin: AdminUser, session: SessionDep
) -> UserOut:
    return UserOut.model_validate(await service.admin_update(session, user_id, data))


@users_router.delete(
    "/{user_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user (admin)",
    responses={**ADMIN_ERRORS, **responses(UserNotFound, LastAdmin)},
    name="delete",
)
async def delete_user(
    user_id: IdPath, _admin: AdminUser, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    await service.delete_user(session, user_id, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
