"""Domain errors and the one place that turns errors into HTTP responses."""

from __future__ import annotations

import errno
import logging
import socket
import traceback
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("app.errors")


class ErrorBody(BaseModel):
    """Every error response is JSON with a human-readable `detail`."""

    detail: str


class FieldError(BaseModel):
    """One thing wrong with a request: where (`loc`, e.g. ["body", "party_size"]) and what."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class ValidationErrorBody(BaseModel):
    """A 422: `detail` says what was wrong; for a malformed request `errors` lists each
    field (a request that is well formed but breaks a rule has only `detail`)."""

    detail: str
    errors: list[FieldError] = []


class AppError(Exception):
    """A domain error that carries its HTTP status. Services raise these, never HTTPException."""

    status_code: ClassVar[int] = 400
    default_message: ClassVar[str] = "Request could not be processed"
    # The body's schema, for the OpenAPI document (a subclass with more fields names its own).
    body_model: ClassVar[type[BaseModel]] = ErrorBody

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.message = message or self.default_message
        self.headers = headers
        self.extra = extra
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400
    default_message = "The request could not be read"


UNREADABLE_BODY = (
    "The request body could not be read as JSON: send UTF-8 text, not nested hundreds of "
    "levels deep"
)


class NotFound(AppError):
    status_code = 404
    default_message = "Not found"


class Conflict(AppError):
    status_code = 409
    default_message = "Conflicts with the current state"


class InvalidInput(AppError):
    status_code = 422
    default_message = "Invalid input"


class Unauthorized(AppError):
    status_code = 401
    default_message = "Not authenticated"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(AppError):
    status_code = 403
    default_message = "Not allowed"


class TooManyRequests(AppError):
    status_code = 429
    default_message = "Too many requests"


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route, from the domain errors it can raise."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        out[error.status_code] = {"model": error.body_model, "description": error.default_message}
    return out


def _json(
    status_code: int, content: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(jsonable_encoder(content), status_code=status_code, headers=headers)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return _json(exc.status_code, {"detail": exc.message, **exc.extra}, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = UNREADABLE_BODY  # FastAPI's words for a body that is not UTF-8, or too deep

    return _json(exc.status_code, {"detail": detail}, getattr(exc, "headers", None))


# A body that is not the JSON object a route wants, in the words the client needs.
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def _field_message(request: Request, err: Any) -> str:
    loc, kind = tuple(err.get("loc", ())), err.get("type")
    if loc == ("body",) and kind in _NOT_AN_OBJECT:
        sent = request.headers.get("content-type", "")
        if "json" not in sent.lower():
            return "send the body as JSON, with the header Content-Type: application/json"
        return "send a JSON object ({...}) as the body"
    if loc == ("body",) and kind == "missing":
        return "a JSON body is required"
    if kind == "json_invalid":
        where = loc[1] if len(loc) > 1 else "?"
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        return f"the body is not valid JSON: {reason} (at character {where})"
    return str(err.get("msg", "")).removeprefix("Value error, ")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        message = _field_message(request, err)
        errors.append({"loc": list(err.get("loc", ())), "msg": message, "type": err.get("type")})
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return _json(422, {"detail": summary or "Invalid request", "errors": errors})


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("integrity error on %s %s: %s", request.method, request.url.path, summary(exc))
    return _json(409, {"detail": "The change conflicts with existing data"})


OUT_OF_RANGE = "A value is out of range (numbers and ids must fit 32 bits, dates years 1-9999)"
UNSTORABLE_TEXT = "A text contains a character that cannot be stored (such as NUL, \\u0000)"


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    logger.info("value out of range on %s %s: %s", request.method, request.url.path, summary(exc))
    return _json(422, {"detail": OUT_OF_RANGE})


# SQLSTATEs of a database that cannot serve now (rather than of a bad request): a
# connection exception (class 08), an administrator or crash shutdown, a server that is
# starting or stopping, and too many connections.
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
RETRY_AFTER = {"Retry-After": "1"}


def _chain(exc: BaseException) -> list[BaseException]:
    """The error, what it wraps (`orig`) and what caused it, a few levels deep."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 8:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def _sqlstate(exc: BaseException) -> str:
    for error in _chain(exc):
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if state:
            return str(state)
    return ""


def summary(exc: BaseException) -> str:
    """What to log of a database error: its kind, SQLSTATE and constraint, never the
    statement's values (a guest's e-mail, a password hash)."""
    orig = getattr(exc, "orig", None) or exc
    cause = getattr(orig, "__cause__", None) or orig
    parts = [type(cause).__name__]
    if state := _sqlstate(exc):
        parts.append(f"SQLSTATE {state}")
    if constraint := getattr(cause, "constraint_name", None):
        parts.append(f"constraint {constraint}")
    return ", ".join(parts)


def database_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached or cannot serve now, in any
    of the forms it arrives: a SQLAlchemy error whose connection was invalidated, a raw
    driver error from a pooled connection taken for the fast path, a socket error."""
    import asyncpg

    state = _sqlstate(exc)
    if state.startswith("08") or state in UNAVAILABLE_STATES:
        return True
    for error in _chain(exc):
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, asyncpg.ConnectionDoesNotExistError | asyncpg.InternalClientError):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "connection" in str(error).lower():
            return True  # "connection is closed", not e.g. "another operation is in progress"
        if _network_error(error):
            return True
    return False


# The socket errors of a database that cannot be reached (a request opens no other socket).
_NETWORK_ERRNOS = frozenset({
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
    errno.ENETUNREACH, errno.ENETDOWN, errno.EPIPE, errno.ETIMEDOUT,
})  # fmt: skip


def _network_error(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | socket.gaierror):
        return True
    return isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS


def _frames(exc: BaseException) -> str:
    """Where an error arose, without its messages (a driver's message can quote a row's
    values: "Key (email)=(...) already exists")."""
    return "".join(traceback.format_tb(exc.__traceback__)[-12:])


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    """Driver errors no other handler took: the database unavailable is a 503, a value it
    refuses a 422, a deadlock or serialisation failure a 409 (try again); anything else a
    logged 500. Also takes asyncpg's own errors, which reach us unwrapped when a pooled
    connection is opened for the fast path."""
    if database_unavailable(exc):
        return await _database_unavailable(request, exc)
    cause = getattr(getattr(exc, "orig", None), "__cause__", None)
    sqlstate = _sqlstate(exc)
    if sqlstate in {"40P01", "40001"}:
        logger.warning(
            "concurrent update on %s %s: %s", request.method, request.url.path, summary(exc)
        )
        return _json(
            409, {"detail": "Someone changed the same thing at the same moment; please try again"}
        )
    if sqlstate in {"22021", "22P05"}:  # e.g. a NUL character, which PostgreSQL cannot store
        logger.info("unstorable text on %s %s: %s", request.method, request.url.path, summary(exc))
        return _json(422, {"detail": UNSTORABLE_TEXT})
    if sqlstate.startswith("22") or isinstance(cause, ValueError | OverflowError):
        return await _out_of_range(request, exc)
    logger.error(
        "database error on %s %s: %s\n%s", request.method, request.url.path, summary(exc),
        _frames(exc),
    )  # fmt: skip
    return _json(500, {"detail": "Internal server error"})


async def _statement_error(request: Request, exc: Exception) -> JSONResponse:
    """A value SQLAlchemy could not bind, before the driver saw it: an instant in the
    year 1 given at +14:00 has no UTC date (OverflowError). Anything else here, such as
    a naive datetime, is our bug and a logged 500."""
    if isinstance(getattr(exc, "orig", None), OverflowError):
        return await _out_of_range(request, exc)
    logger.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, {"detail": "Internal server error"})


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "database unavailable on %s %s: %s", request.method, request.url.path, summary(exc)
    )
    return _json(503, {"detail": "The database is unavailable; try again shortly"}, RETRY_AFTER)


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    """Every pooled connection stayed busy for DB_POOL_TIMEOUT seconds: overloaded, not
    down."""
    logger.warning(
        "no free database connection on %s %s: %s", request.method, request.url.path, exc
    )
    return _json(503, {"detail": "The service is busy; try again shortly"}, RETRY_AFTER)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(StatementError, _statement_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _pool_exhausted)
    # asyncpg raises the socket error itself when the server refuses the connection, and
    # its own errors when a pooled connection is opened for the fast path.
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(OSError, _os_error)
    for driver_error in _driver_errors():
        app.add_exception_handler(driver_error, _dbapi_error)


def _driver_errors() -> tuple[type[Exception], ...]:
    """asyncpg's own errors, and SQLAlchemy's adaptation of them (its DB-API `Error`),
    which a pooled connection being opened raises without wrapping."""
    import asyncpg
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    adapted: type[Exception] = dialect.import_dbapi().Error
    return (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, adapted)


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    """A socket error reaching the database (the only sockets a request opens) is a 503;
    any other OSError (a missing file, a permission) is our fault: a logged 500."""
    if isinstance(exc, TimeoutError):
        return await _pool_exhausted(request, exc)
    if _network_error(exc):
        return await _database_unavailable(request, exc)
    logger.error("error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, {"detail": "Internal server error"})
