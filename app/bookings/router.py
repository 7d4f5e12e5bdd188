from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response, status
from pydantic import BaseModel

from app.bookings import arrivals, changes, holds, listing, service
from app.bookings import availability as availability_service
from app.bookings.arrivals import BookingStateConflict
from app.bookings.dependencies import AvailabilityLimit, Booker, Checking
from app.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotChangeable,
    BookingNotFound,
    HoldNotFound,
    IdempotencyKeyReused,
    NoTableAvailable,
    OverlappingBooking,
    PacingOverrideForbidden,
    SlotPacedOut,
    TooManyBookings,
)
from app.bookings.models import BookingStatus
from app.bookings.schemas import (
    Availability,
    AvailabilityQuery,
    BookingChange,
    BookingCreate,
    BookingOut,
    BookingPage,
    ChangeConflictError,
    DayAvailability,
    HoldCreate,
    HoldOut,
    NoTableError,
    SeatBooking,
    SeatedBooking,
)
from app.deps import (
    MAX_ID,
    CurrentUser,
    IdPath,
    Now,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from app.errors import ErrorBody, Forbidden, TooManyRequests, Unauthorized, responses
from app.fields import QueryDate
from app.floor.exceptions import TableBusy
from app.guests.exceptions import BookingForOthersForbidden, InvalidPhone
from app.openapi import operation_id
from app.orders import service as orders_service
from app.orders.exceptions import SettleBillFirst
from app.routing import LeanRoute
from app.venue.calendar import BookingRuleViolation, RuleErrorBody

router = APIRouter(prefix="/bookings", tags=["bookings"])
# The availability check and POST /bookings: the busiest routes, bound by LeanRoute.
hot_router = APIRouter(
    prefix="/bookings",
    tags=["bookings"],
    route_class=LeanRoute,
    # The app takes these routes as its own (app.main), so they get their ids here.
    generate_unique_id_function=operation_id,
)


class ModelResponse(Response):
    """A model we built ourselves, serialised once (the route's response_model
    documents it)."""

    media_type = "application/json"

    def __init__(self, model: BaseModel, status_code: int = status.HTTP_200_OK) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code)


@hot_router.get(
    "/availability",
    response_model=Availability | DayAvailability,
    summary="Free tables for a party at a local date and time, or every slot of a day",
    description="With `time`: the tables free for the whole dining duration, best fit first, "
    "or, when the slot cannot be booked (`bookable` false), why (`reason`: paced_out, "
    "no_table) and nearby bookable times. Without `time`: every slot of the day, each "
    "`bookable` or not with its `reason` (past, lead_time, paced_out, no_table) and how "
    "many fitting tables can be booked. A rule the request breaks (closed, past, "
    "lead_time, beyond_horizon, party_too_large) is a 422 with its `code`. No sign-in "
    "needed (guests see online tables); with a staff member's Bearer token, in_house "
    "tables count too and the lead time does not apply. Rate-limited per client address.",
    responses=responses(BookingRuleViolation, TooManyRequests),
)
async def availability(
    request: Request, _: AvailabilityLimit, query: Annotated[AvailabilityQuery, Query()]
) -> Response:
    if query.time is not None and query.time.tzinfo is not None:
        raise BookingRuleViolation(
            "give the restaurant's local time, without an offset (e.g. 19:00)"
        )
    async with Checking(request) as ctx:
        if query.time is None:
            answer: BaseModel = await availability_service.check_day(
                ctx.conn, day=query.date, party_size=query.party_size, now=ctx.now,
                days=ctx.days, staff=ctx.staff,
            )  # fmt: skip
        else:
            answer = await availability_service.check_slot(
                ctx.conn, day=query.date, at=query.time, party_size=query.party_size,
                now=ctx.now, days=ctx.days, staff=ctx.staff,
            )  # fmt: skip
    return ModelResponse(answer)


@hot_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    summary="Book a table (the best-fitting free one unless table_id is given)",
    description="A guest books for themselves (source `online`), on an online table. Staff "
    "book for someone else with `guest` {name, phone, email} and `source` (`phone`, "
    "`walk_in`), on online or in_house tables; the e-mails go to the guest's address. "
    "walk_in tables are never booked ahead. A guest's bookings may not overlap each other, "
    "and one guest holds at most the restaurant's `max_active_bookings_per_guest` "
    "upcoming ones (staff are exempt). A service's `pacing_covers` limits the covers "
    "starting in each slot interval; staff may book past it with "
    "`pacing_override_reason`.",
    responses={
        **responses(Unauthorized, TooManyRequests, HoldNotFound),
        403: {
            "model": ErrorBody,
            "description": f"{BookingForOthersForbidden.default_message}; or "
            f"{PacingOverrideForbidden.default_message.lower()}",
        },
        409: {
            "model": NoTableError,
            "description": f"{NoTableAvailable.default_message} (code no_table, with "
            f"alternatives); {SlotPacedOut.default_message.lower()} (code paced_out, with "
            f"alternatives); {OverlappingBooking.default_message.lower()}; or "
            f"{TooManyBookings.default_message.lower()}",
        },
        422: {
            "model": RuleErrorBody,
            "description": f"{BookingRuleViolation.default_message} (with its `code`); "
            f"{IdempotencyKeyReused.default_message.lower()}; or "
            f"{InvalidPhone.default_message.lower()}",
        },
    },
    name="create",
)
async def create_booking(
    data: BookingCreate,
    caller: Booker,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="Retry-safe: the same key replays the first answer"),
    ] = None,
) -> Response:
    async with caller.allowance():
        booking = await service.book(
            caller.database, data, user_id=caller.user_id, now=caller.now, key=idempotency_key,
            changes=caller.changes, region=caller.region,
        )  # fmt: skip
    return ModelResponse(booking, status.HTTP_201_CREATED)


@router.post(
    "/holds",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldOut,
    summary="Hold a slot's table for a few minutes while the guest fills in their details",
    description="The best-fitting free table (or `table_id`, or a `combination_id`) is "
    "kept for SLOT_HOLD_MINUTES (5 by default): nobody else can book or hold it, and "
    "availability does not offer it. POST /bookings with `hold_id` (and the same date, "
    "time and party size) makes it the booking; once the hold expires the tables are "
    "free again at once. A guest keeps one hold at a time: a new one releases the last.",
    responses={
        **responses(Unauthorized, BookingRuleViolation, TooManyRequests),
        409: {"model": NoTableError, "description": "Nothing free to hold (with alternatives)"},
    },
    name="create_hold",
)
async def create_hold(data: HoldCreate, caller: Booker, request: Request) -> Response:
    async with caller.allowance(), caller.database.connect(write=True) as conn:
        user = await service.load_principal(conn, caller.user_id)
        hold = await holds.create_hold(
            conn, data, user=user, now=caller.now,
            minutes=request.app.state.settings.slot_hold_minutes,
        )  # fmt: skip
    return ModelResponse(hold, status.HTTP_201_CREATED)


@router.delete(
    "/holds/{hold_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Release a hold: its tables are free again",
    responses=responses(Unauthorized, HoldNotFound),
    name="release_hold",
)
async def release_hold(hold_id: IdPath, caller: Booker) -> Response:
    async with caller.database.connect(write=True) as conn:
        user = await service.load_principal(conn, caller.user_id)
        await holds.release(conn, hold_id, user=user, now=caller.now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "",
    response_model=BookingPage,
    summary="My bookings (staff and admins see everyone's), upcoming first",
    description="With `date`: that day's bookings in order of time (a host's list for "
    "the evening). `q` finds bookings by their guest's name, phone or e-mail.",
    responses=responses(Unauthorized),
    name="list",
)
async def list_bookings(
    user: CurrentUser,
    session: SessionDep,
    now: Now,
    date: Annotated[QueryDate | None, Query(description="Only this local date")] = None,
    date_from: Annotated[QueryDate | None, Query(alias="from")] = None,
    date_to: Annotated[QueryDate | None, Query(alias="to")] = None,
    status: BookingStatus | None = None,
    q: Annotated[
        str | None, Query(max_length=120, description="Guest name, phone or e-mail contains")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> BookingPage:
    items, total = await listing.list_bookings(
        session, user=user, now=now, on=date, date_from=date_from, date_to=date_to,
        status=status, limit=limit, offset=offset, q=q,
    )  # fmt: skip
    return BookingPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{booking_id:int}",
    response_model=BookingOut,
    summary="One booking (its guest, staff or admin)",
    responses=responses(Unauthorized, BookingNotFound),
    name="get",
)
async def get_booking(booking_id: IdPath, user: CurrentUser, session: SessionDep) -> BookingOut:
    return await service.get_booking(session, booking_id, user=user)


@router.delete(
    "/{booking_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel a booking; its table is free again at once",
    responses=responses(Unauthorized, BookingNotFound, BookingNotCancellable),
    name="cancel",
)
async def cancel_booking(
    booking_id: IdPath, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    await service.cancel_booking(session, booking_id, user=user, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


CHANGE_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ChangeConflictError,
        "description": f"{BookingNotChangeable.default_message} (not confirmed, started, or "
        "inside the cancel cutoff for a customer), or the new time or table is taken "
        "(with alternatives; nothing changed), or it would overlap another of the "
        "guest's own bookings",
    }
}
CHANGE_DESCRIPTION = (
    "Give only what changes: `date`, `time`, `party_size`, `table_id`, "
    "`special_requests` (and, staff only, `guest`). The rules of a new booking apply "
    "(slot grid, opening hours, lead time, horizon, party size); the booking keeps its "
    "id, and its table when that still fits and is free, else gets the best-fitting free "
    "one. Only a confirmed booking that has not started can be changed. The guest is "
    "sent one 'booking changed' e-mail; none when nothing changes."
)


@router.patch(
    "/{booking_id:int}",
    response_model=BookingOut,
    summary="Change a booking (its guest, outside the cancel cutoff; staff any time)",
    description=CHANGE_DESCRIPTION,
    responses={
        **responses(Unauthorized, BookingForOthersForbidden, BookingNotFound, BookingRuleViolation),
        **CHANGE_CONFLICT,
    },
    name="change",
)
async def change_booking(
    booking_id: IdPath,
    data: BookingChange,
    user: CurrentUser,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> BookingOut:
    return await changes.change_booking(
        session, booking_id, data, user=user, now=now, settings=settings
    )


ARRIVAL_ERRORS = {**responses(Unauthorized, Forbidden, BookingNotFound, BookingStateConflict)}


@router.post(
    "/{booking_id:int}/seat",
    response_model=SeatedBooking,
    summary="The party arrived: seat it at its table with a new (or given) order (staff)",
    description="From the hold window before its start (`hold_minutes`, when its table "
    "shows as reserved) until its end; earlier or later is a 409.",
    responses={**ARRIVAL_ERRORS, **responses(TableBusy)},
    name="seat",
)
async def seat_booking(
    booking_id: IdPath,
    staff: StaffUser,
    session: SessionDep,
    now: Now,
    data: Annotated[SeatBooking | None, Body()] = None,
) -> SeatedBooking:
    booking, order = await arrivals.seat(
        session, booking_id, staff=staff, order_id=data.order_id if data else None, now=now
    )
    return SeatedBooking(
        booking=await service.get_booking(session, booking.id, user=staff),
        order=await orders_service.to_out(session, order),
    )


@router.post(
    "/{booking_id:int}/no-show",
    response_model=BookingOut,
    summary="The party did not come (staff); the table is free again",
    responses=ARRIVAL_ERRORS,
)
async def no_show(
    booking_id: IdPath, staff: StaffUser, session: SessionDep, settings: SettingsDep, now: Now
) -> BookingOut:
    booking = await arrivals.no_show(session, booking_id, staff=staff, settings=settings, now=now)
    return await service.get_booking(session, booking.id, user=staff)


@router.post(
    "/{booking_id:int}/complete",
    response_model=BookingOut,
    summary="The party has left (staff): booking completed, table to cleaning; its order "
    "must be paid (an empty one is closed), else 409 settle the bill first",
    responses={**ARRIVAL_ERRORS, **responses(SettleBillFirst)},
)
async def complete(
    booking_id: IdPath, staff: StaffUser, session: SessionDep, now: Now
) -> BookingOut:
    booking = await arrivals.complete(session, booking_id, staff=staff, now=now)
    return await service.get_booking(session, booking.id, user=staff)
