from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status
from sse_starlette import EventSourceResponse

from app import streams
from app.deps import IdPath, Now, SessionDep, StaffUser, StreamUser
from app.errors import Forbidden, Unauthorized, responses
from app.kitchen import service, stream
from app.kitchen.exceptions import (
    InvalidTransition,
    NothingToUndo,
    PendingTicketAdminOnly,
    ReasonRequired,
    TicketInProgress,
    TicketNotFound,
)
from app.kitchen.models import KitchenEvent, Station, TicketStatus
from app.kitchen.schemas import TicketOut, TicketStatusUpdate, TicketUndo

router = APIRouter(prefix="/api/kitchen", tags=["kitchen"])
AUTH = responses(Unauthorized, Forbidden)
StationQuery = Annotated[
    Station | None, Query(description="Only this station's tickets (default: every station)")
]


@router.get(
    "/orders",
    response_model=list[TicketOut],
    responses=AUTH,
    summary="The kitchen queue, oldest first (default: everything not yet served); "
    "`station=bar` for the bar's",
    name="queue",
)
async def kitchen_queue(
    _staff: StaffUser,
    session: SessionDep,
    status: TicketStatus | None = None,
    station: StationQuery = None,
) -> list[TicketOut]:
    tickets = await service.queue(session, status=status, station=station)
    return [TicketOut.model_validate(t) for t in tickets]


@router.put(
    "/orders/{ticket_id:int}",
    response_model=TicketOut,
    summary="Move a ticket forward: pending → preparing → ready → served",
    responses={**AUTH, **responses(TicketNotFound, InvalidTransition)},
)
async def update_ticket(
    ticket_id: IdPath, data: TicketStatusUpdate, _staff: StaffUser, session: SessionDep, now: Now
) -> TicketOut:
    ticket = await service.advance(session, ticket_id, data.status, now=now)
    return TicketOut.model_validate(ticket)


@router.post(
    "/orders/{ticket_id:int}/undo",
    response_model=TicketOut,
    summary="Move a ticket one step back (a move made by mistake): free within a minute "
    "of the move, later only with a `reason`",
    responses={**AUTH, **responses(TicketNotFound, NothingToUndo, ReasonRequired)},
    name="undo",
)
async def undo_ticket(
    ticket_id: IdPath,
    staff: StaffUser,
    session: SessionDep,
    now: Now,
    data: Annotated[TicketUndo | None, Body()] = None,
) -> TicketOut:
    ticket = await service.undo(
        session, ticket_id, user=staff, reason=data.reason if data else None, now=now
    )
    return TicketOut.model_validate(ticket)


@router.delete(
    "/orders/{ticket_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a served or cancelled ticket (a pending one: admin only)",
    responses={**AUTH, **responses(TicketNotFound, TicketInProgress, PendingTicketAdminOnly)},
)
async def remove_ticket(
    ticket_id: IdPath, staff: StaffUser, session: SessionDep, now: Now
) -> Response:
    await service.remove(session, ticket_id, user=staff, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/stream",
    summary="Server-sent events: ticket_created, ticket_updated, ticket_cancelled, "
    "ticket_removed (data: the ticket as JSON; a move back also carries `moved_back`); "
    "`station=bar` for the bar's tickets only",
    description="Staff, by bearer token or, from a browser's EventSource, by the stream "
    "cookie (POST /auth/session/stream). Resumes after `Last-Event-ID` (or `after`).",
    responses={**AUTH, 200: {"content": {"text/event-stream": {}}}},
    response_class=EventSourceResponse,
    name="stream",
)
async def kitchen_stream(
    request: Request,
    _staff: StreamUser,
    session: SessionDep,
    last_event_id: streams.LastEventId = None,
    after: streams.ResumeAfter = None,
    station: StationQuery = None,
) -> EventSourceResponse:
    start = await streams.resume_point(
        session, KitchenEvent, after=after, last_event_id=last_event_id
    )
    poll = request.app.state.settings.stream_poll_seconds
    events = stream.events(request, request.app.state.db, after=start, poll=poll, station=station)
    return streams.respond(events)
