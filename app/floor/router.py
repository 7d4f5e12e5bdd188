from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status
from sse_starlette import EventSourceResponse

from app import streams
from app.bookings.exceptions import BookingsStranded
from app.bookings.schemas import StrandedError
from app.deps import AdminUser, IdPath, Now, SessionDep, SettingsDep, StaffUser, StreamUser
from app.errors import Forbidden, InvalidInput, Unauthorized, responses
from app.fields import QueryInstant
from app.floor import combinations, operations, service, stream, views
from app.floor.exceptions import (
    CombinationExists,
    CombinationNotFound,
    InvalidCombination,
    InvalidMerge,
    InvalidSeat,
    SeatTaken,
    TableBusy,
    TableHasBookings,
    TableNotFound,
    TableNumberTaken,
)
from app.floor.models import FloorEvent
from app.floor.schemas import (
    CombinationCreate,
    CombinationOut,
    GroupView,
    SeatRequest,
    TableChanged,
    TableCreate,
    TableUpdate,
    TableView,
)
from app.orders import bills
from app.orders.bills import InvalidSplit, NoCurrentOrder
from app.orders.exceptions import OrderNotFound, OrderNotOpen, SettleBillFirst
from app.orders.schemas import SplitRequest, SplitResult

router = APIRouter(prefix="/api/tables", tags=["tables"])
floor_router = APIRouter(prefix="/api/floor", tags=["tables"])
AUTH = responses(Unauthorized, Forbidden)
ACTION = {**AUTH, **responses(TableNotFound, TableBusy)}


async def _one(session: SessionDep, table_id: IdPath, now: datetime) -> TableView:
    table = await service.get_table(session, table_id)
    return (await views.describe(session, [table], now))[0]


@router.get(
    "",
    response_model=list[TableView],
    responses=AUTH,
    summary="All tables with status, seats, current order and next booking today",
    name="list",
)
async def list_tables(_staff: StaffUser, session: SessionDep, now: Now) -> list[TableView]:
    return await views.describe(session, await service.list_tables(session), now)


# Each also answers without its trailing slash (not repeated in the schema); without
# these, /occupied would be taken for a table id.
@router.get("/occupied", response_model=list[TableView], include_in_schema=False)
@router.get(
    "/occupied/",
    response_model=list[TableView],
    responses=AUTH,
    summary="Tables with a party at them",
    name="occupied",
)
async def occupied_tables(_staff: StaffUser, session: SessionDep, now: Now) -> list[TableView]:
    tables = await views.describe(session, await service.list_tables(session), now)
    return [t for t in tables if t.is_occupied]


@router.get("/available", response_model=list[TableView], include_in_schema=False)
@router.get(
    "/available/",
    response_model=list[TableView],
    responses=AUTH,
    summary="Tables free to seat a party now (or at `at`), held tables left out",
    name="available",
)
async def available_tables(
    _staff: StaffUser,
    session: SessionDep,
    now: Now,
    party_size: Annotated[int | None, Query(ge=1, le=200)] = None,
    at: Annotated[
        QueryInstant | None, Query(description="ISO instant with offset; default now")
    ] = None,
) -> list[TableView]:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("`at` needs a UTC offset, e.g. 2030-01-04T19:00:00+00:00")
    return await service.available_tables(session, party_size=party_size, at=at or now)


@router.post(
    "",
    response_model=TableView,
    status_code=status.HTTP_201_CREATED,
    summary="Add a table (admin), placed on the floor plan or not yet",
    responses={**AUTH, **responses(TableNumberTaken)},
    name="create",
)
async def create_table(
    data: TableCreate, _admin: AdminUser, session: SessionDep, now: Now
) -> TableView:
    table = await service.create_table(session, data)
    return await _one(session, table.id, now)


@router.get(
    "/combinations",
    response_model=list[CombinationOut],
    responses=AUTH,
    summary="The table combinations a large party may book (staff)",
    name="list_combinations",
)
async def list_combinations(_staff: StaffUser, session: SessionDep) -> list[CombinationOut]:
    return await combinations.list_combinations(session)


@router.post(
    "/combinations",
    response_model=CombinationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Let tables be joined for one party (admin), with the seats they give together",
    description="Availability offers a combination only when no single table fits the "
    "party, fewest wasted seats first; a booking on it takes every member table.",
    responses={**AUTH, **responses(InvalidCombination, CombinationExists)},
    name="create_combination",
)
async def create_combination(
    data: CombinationCreate, _admin: AdminUser, session: SessionDep
) -> CombinationOut:
    return await combinations.create_combination(session, data)


@router.delete(
    "/combinations/{combination_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop offering a combination (admin); bookings made on it keep their tables",
    responses={**AUTH, **responses(CombinationNotFound)},
    name="delete_combination",
)
async def delete_combination(
    combination_id: IdPath, _admin: AdminUser, session: SessionDep
) -> Response:
    await combinations.delete_combination(session, combination_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{table_id:int}",
    response_model=TableView,
    summary="One table (staff)",
    responses={**AUTH, **responses(TableNotFound)},
    name="get",
)
async def get_table(
    table_id: IdPath, _staff: StaffUser, session: SessionDep, now: Now
) -> TableView:
    return await _one(session, table_id, now)


@router.put(
    "/{table_id:int}",
    response_model=TableChanged,
    summary="Change a table (admin); retiring or shrinking it under a booking asks first",
    description="Making the table unbookable, or smaller than a party booked at it, is "
    "refused with 409 listing the confirmed bookings it strands (`affected`), unless "
    "`cancel_affected=true`: then each moves to another fitting table free at the same "
    "time (`moved`) or, where none is, is cancelled with an e-mail to its guest "
    "(`cancelled`). An occupied or merged table is never shrunk. Its place on the floor "
    "plan (`pos_x` and `pos_y` together; both null takes it off the plan), size, shape "
    "and rotation change like any other field.",
    responses={
        **AUTH,
        **responses(TableNotFound),
        409: {"model": StrandedError, "description": BookingsStranded.default_message},
    },
    name="update",
)
async def update_table(
    table_id: IdPath,
    data: TableUpdate,
    _admin: AdminUser,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    cancel_affected: Annotated[
        bool,
        Query(description="Move or cancel the confirmed bookings the change strands"),
    ] = False,
) -> TableChanged:
    _, outcome = await service.update_table(
        session, table_id, data, now=now, settings=settings, cancel_affected=cancel_affected
    )
    view = await _one(session, table_id, now)
    return TableChanged(**dict(view), **dict(outcome))


@router.delete(
    "/{table_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a table (admin); refused while it has bookings or a party",
    responses={**AUTH, **responses(TableNotFound, TableHasBookings)},
    name="delete",
)
async def delete_table(
    table_id: IdPath, _admin: AdminUser, session: SessionDep, now: Now
) -> Response:
    await service.delete_table(session, table_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{table_id:int}/assign/{order_id:int}",
    response_model=TableView,
    summary="Seat an order at the table (moves it from another table)",
    responses={**ACTION, **responses(OrderNotFound, OrderNotOpen)},
)
async def assign(
    table_id: IdPath, order_id: IdPath, _staff: StaffUser, session: SessionDep, now: Now
) -> TableView:
    await operations.assign(session, table_id, order_id, now=now)
    return await _one(session, table_id, now)


@router.post(
    "/{table_id:int}/release",
    response_model=TableView,
    summary="The party left: free seats, detach the order, table to cleaning; a booking "
    "seated there is completed once its order is paid (an empty one is closed)",
    responses={**ACTION, **responses(SettleBillFirst)},
)
async def release(
    table_id: IdPath,
    _staff: StaffUser,
    session: SessionDep,
    now: Now,
    clean: Annotated[bool, Query(description="Mark it available at once")] = False,
) -> TableView:
    await operations.release(session, table_id, clean=clean, now=now)
    return await _one(session, table_id, now)


@router.post(
    "/{table_id:int}/clean",
    response_model=TableView,
    summary="The table is clean: available again",
    responses=ACTION,
)
async def clean(table_id: IdPath, _staff: StaffUser, session: SessionDep, now: Now) -> TableView:
    await operations.mark_clean(session, table_id)
    return await _one(session, table_id, now)


@router.post(
    "/{table_id:int}/assign-seat/{seat_number:int}",
    response_model=TableView,
    summary="Take a seat for the table's order",
    responses={**ACTION, **responses(InvalidSeat, SeatTaken)},
)
async def assign_seat(
    table_id: IdPath,
    seat_number: int,
    _staff: StaffUser,
    session: SessionDep,
    now: Now,
    data: Annotated[SeatRequest | None, Body()] = None,
) -> TableView:
    order_id = data.order_id if data else None
    await operations.assign_seat(session, table_id, seat_number, order_id=order_id)
    return await _one(session, table_id, now)


@router.post(
    "/{table_id:int}/release-seat/{seat_number:int}",
    response_model=TableView,
    summary="Free a seat",
    responses={**ACTION, **responses(InvalidSeat)},
)
async def release_seat(
    table_id: IdPath, seat_number: int, _staff: StaffUser, session: SessionDep, now: Now
) -> TableView:
    await operations.release_seat(session, table_id, seat_number)
    return await _one(session, table_id, now)


@router.post(
    "/merge-tables/{table_id_1:int}/{table_id_2:int}",
    response_model=GroupView,
    summary="Join two tables (or a merged group and a table) for one party",
    responses={**ACTION, **responses(InvalidMerge)},
    name="merge",
)
async def merge_tables(
    table_id_1: IdPath, table_id_2: IdPath, _staff: StaffUser, session: SessionDep, now: Now
) -> GroupView:
    group = await operations.merge(session, table_id_1, table_id_2, now=now)
    return await views.describe_group(session, group, now)


@router.post(
    "/split-bill/{table_id:int}",
    response_model=SplitResult,
    summary="Split the bill of the table's current order: equal, by seat or by items",
    responses={**AUTH, **responses(TableNotFound, NoCurrentOrder, InvalidSplit)},
)
async def split_bill(
    table_id: IdPath,
    _staff: StaffUser,
    session: SessionDep,
    data: Annotated[SplitRequest | None, Body()] = None,
) -> SplitResult:
    return await bills.split_table_bill(session, table_id, data or SplitRequest())


@floor_router.get(
    "/stream",
    summary="Server-sent events whenever a table or a booking changes: table_changed, "
    "booking_changed (data: kind, id, change, at); fetch what you show again",
    description="For the host stand: every seat, release, clean, merge and table edit "
    "(its place on the plan too), every booking made, changed, cancelled, seated, marked "
    "a no-show or completed, walk-ins included, whoever made it. Staff, by bearer token "
    "or, from a browser's EventSource, by the stream cookie (POST /auth/session/stream). "
    "Resumes after `Last-Event-ID` (or `after`).",
    responses={**AUTH, 200: {"content": {"text/event-stream": {}}}},
    response_class=EventSourceResponse,
    name="stream",
)
async def floor_stream(
    request: Request,
    _staff: StreamUser,
    session: SessionDep,
    last_event_id: streams.LastEventId = None,
    after: streams.ResumeAfter = None,
) -> EventSourceResponse:
    start = await streams.resume_point(
        session, FloorEvent, after=after, last_event_id=last_event_id
    )
    poll = request.app.state.settings.stream_poll_seconds
    return streams.respond(stream.events(request, request.app.state.db, after=start, poll=poll))
