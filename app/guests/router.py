"""Staff's guest book: find a guest, see their visits and bookings, keep notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.bookings import listing as bookings
from app.bookings.schemas import GuestDetail
from app.deps import MAX_ID, IdPath, SessionDep, SettingsDep, StaffUser
from app.errors import Forbidden, InvalidInput, Unauthorized, responses
from app.guests import service
from app.guests.exceptions import GuestEmailTaken, GuestLinkedToAccount, GuestNotFound, InvalidPhone
from app.guests.schemas import GuestPage, GuestSummary, GuestUpdate

router = APIRouter(prefix="/api/guests", tags=["guests"])
AUTH = responses(Unauthorized, Forbidden)


@router.get(
    "",
    response_model=GuestPage,
    summary="Find guests by name, phone or e-mail (staff)",
    description="Each with their visits, cancellations and no-shows, counted from their "
    "bookings. A phone number matches however it is written (020 7946 0000 finds "
    "+442079460000).",
    responses=AUTH,
    name="list",
)
async def list_guests(
    _: StaffUser,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> GuestPage:
    items, total = await service.search(session, q=q, limit=limit, offset=offset)
    return GuestPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{guest_id:int}",
    response_model=GuestDetail,
    summary="One guest with their bookings (staff)",
    responses={**AUTH, **responses(GuestNotFound)},
    name="get",
)
async def get_guest(guest_id: IdPath, _: StaffUser, session: SessionDep) -> GuestDetail:
    summary = await service.summary(session, guest_id)
    return GuestDetail(
        **summary.model_dump(), bookings=await bookings.guest_bookings(session, guest_id)
    )


@router.patch(
    "/{guest_id:int}",
    response_model=GuestSummary,
    summary="Correct a guest's details, or keep notes, allergies and tags (staff)",
    description="An account's guest record keeps the account's e-mail address (its owner "
    "changes it). Fields left out are kept; notes and allergies are cleared with null.",
    responses={
        **AUTH,
        **responses(
            GuestNotFound, GuestEmailTaken, GuestLinkedToAccount, InvalidPhone, InvalidInput
        ),
    },
    name="update",
)
async def update_guest(
    guest_id: IdPath,
    data: GuestUpdate,
    _: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> GuestSummary:
    return await service.update_guest(session, guest_id, data, region=settings.phone_region)
