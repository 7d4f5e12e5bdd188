"""The staff's waitlist (/api/waitlist): a date's list, walk-ins at the door, seating,
removing, and offering an entry what is free now. Staff or admin on every route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import IdPath, Now, SessionDep, SettingsDep, StaffUser
from app.errors import Forbidden, Unauthorized, responses
from app.fields import QueryDate
from app.guests.exceptions import InvalidPhone
from app.venue.calendar import BookingRuleViolation
from app.waitlist import service
from app.waitlist.exceptions import EntryClosed, EntryNotFound, NothingToOffer
from app.waitlist.schemas import EntryOut, WalkInCreate

router = APIRouter(prefix="/api/waitlist", tags=["waitlist"])
STAFF = responses(Unauthorized, Forbidden)


@router.get(
    "",
    response_model=list[EntryOut],
    summary="A date's waitlist: guests waiting ahead and walk-ins, in order (staff)",
    description="Every entry of the date (today by default), in the order it joined; "
    "`position` numbers those still waiting.",
    responses=STAFF,
    name="day",
)
async def day_list(
    _: StaffUser,
    session: SessionDep,
    now: Now,
    date: Annotated[QueryDate | None, Query(description="Local date (default today)")] = None,
) -> list[EntryOut]:
    return await service.day_list(session, date, now=now)


@router.post(
    "/walk-ins",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    summary="Add a party waiting at the door, with the wait they were quoted (staff)",
    responses={
        **STAFF,
        422: {
            "description": f"{BookingRuleViolation.default_message} (party too large); or "
            f"{InvalidPhone.default_message.lower()}"
        },
    },
    name="add_walk_in",
)
async def add_walk_in(
    data: WalkInCreate, _: StaffUser, session: SessionDep, settings: SettingsDep, now: Now
) -> EntryOut:
    return await service.add_walk_in(session, data, settings=settings, now=now)


@router.post(
    "/{entry_id:int}/seated",
    response_model=EntryOut,
    summary="A walk-in waiting was given a table (staff)",
    responses={**STAFF, **responses(EntryNotFound, EntryClosed)},
    name="seated",
)
async def seated(
    entry_id: IdPath, _: StaffUser, session: SessionDep, settings: SettingsDep, now: Now
) -> EntryOut:
    return await service.seat(session, entry_id, settings=settings, now=now)


@router.post(
    "/{entry_id:int}/offer",
    response_model=EntryOut,
    summary="Offer a guest's entry what is free in its window now, out of turn (staff)",
    description="As when a table comes free: a hold for WAITLIST_OFFER_MINUTES and an "
    "e-mail with the link to confirm. 409 when nothing fitting is free, or the entry is "
    "not a guest's entry still waiting.",
    responses={
        **STAFF,
        **responses(EntryNotFound),
        409: {
            "description": f"{NothingToOffer.default_message}; or "
            f"{EntryClosed.default_message.lower()}"
        },
    },
    name="offer_now",
)
async def offer(
    entry_id: IdPath, _: StaffUser, session: SessionDep, settings: SettingsDep, now: Now
) -> EntryOut:
    return await service.offer_now(session, entry_id, settings=settings, now=now)


@router.delete(
    "/{entry_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an entry from the list; a table offered to it goes to the next (staff)",
    responses={**STAFF, **responses(EntryNotFound, EntryClosed)},
    name="remove",
)
async def remove(
    entry_id: IdPath, _: StaffUser, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    await service.remove(session, entry_id, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
