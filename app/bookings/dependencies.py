"""What the two hot routes (app.routing.LeanRoute) take from the request.

The availability check and POST /bookings run far more often than any other route, and
FastAPI's solving costs the same for every dependency, however small; so each reads the
app's state itself in one place, instead of the five to eight small dependencies
(settings, clock, limiter, connection, token, ...) the other routes compose.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from app.auth import security
from app.auth.models import STAFF_ROLES
from app.bookings.cache import ChangePublisher, DayCache
from app.db.engine import Database
from app.db.statements import Conn
from app.deps import oauth2_scheme, token_user_id
from app.links import Links
from app.ratelimit import RateLimiter, allowance, client_address


@dataclass(frozen=True, slots=True)
class AvailabilityContext:
    conn: Conn  # taken from the pool only if the check runs a statement
    days: DayCache
    now: datetime
    staff: bool = False  # a staff member's valid access token came with the check


def staff_viewer(request: Request) -> bool:
    """Whether the check carries a staff member's valid access token: staff see the
    tables they may book (in_house too) and no lead time. No token, or one that is not
    valid, is a guest's view (the check is public); the role is the token's, checked
    without the database, as for the booking's rate limit."""
    header = request.headers.get("authorization")
    if not header or not header[:7].lower() == "bearer ":
        return False
    try:
        claims = security.decode_access_token(
            header[7:].strip(), secret=request.app.state.settings.secret_key
        )
    except security.InvalidToken:
        return False
    return claims.role in STAFF_ROLES


async def availability_limit(request: Request) -> None:
    """Counted against the availability limit per client address (429 when spent),
    before the query is validated: malformed requests count too."""
    await request.app.state.limiter.hit("availability", client_address(request))


AvailabilityLimit = Annotated[None, Depends(availability_limit)]


class Checking:
    """`async with Checking(request) as ctx`: what a check reads with. The connection,
    if one was taken, goes back at the end (before the response is sent), and a broken
    one is invalidated, not pooled. (A class rather than @asynccontextmanager: this runs
    for every check.)"""

    __slots__ = ("conn", "context")

    def __init__(self, request: Request) -> None:
        state = request.app.state
        self.conn = state.db.lazy()
        self.context = AvailabilityContext(
            self.conn, state.day_cache, state.clock(), staff_viewer(request)
        )

    async def __aenter__(self) -> AvailabilityContext:
        return self.context

    async def __aexit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        await self.conn.release(error)


@dataclass(frozen=True, slots=True)
class BookingCaller:
    user_id: int
    database: Database
    changes: ChangePublisher | None  # PostgreSQL: announces book_table's bookings
    now: datetime
    region: str  # PHONE_REGION, for the numbers staff type
    limiter: RateLimiter
    address: str  # the client's

    def allowance(self) -> AbstractAsyncContextManager[None]:
        """`async with caller.allowance():` around the booking: one of the user's
        RATE_LIMIT_BOOKING (429 when spent, before any database work), given back if the
        booking is refused as invalid (422; see app.ratelimit.allowance). A malformed
        body never gets this far, so it uses none either."""
        return allowance(self.limiter, "booking", str(self.user_id), self.address)


async def booking_caller(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> BookingCaller:
    """A valid access token (401 otherwise), before any database work. The booking limit
    is taken by the route, around the booking (BookingCaller.allowance)."""
    state = request.app.state
    user_id = token_user_id(state.settings, token)
    return BookingCaller(
        user_id,
        state.db,
        state.changes,
        state.clock(),
        state.settings.phone_region,
        state.limiter,
        client_address(request),
    )


Booker = Annotated[BookingCaller, Depends(booking_caller)]


async def manage_links(request: Request) -> Links:
    """The manage link routes: counted against the booking limit per client address
    (429 when spent) before the token is read, so guessing tokens is slow."""
    state = request.app.state
    await state.limiter.hit("booking", client_address(request))
    return Links(state.settings)


ManageLinks = Annotated[Links, Depends(manage_links)]
