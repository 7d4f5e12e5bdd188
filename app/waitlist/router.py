"""The guest's waitlist: their own entries (signed in), and the offer link's routes (no
sign-in: the token is the key, counted against the booking limit per client address)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.bookings.dependencies import ManageLinks
from app.bookings.exceptions import OverlappingBooking, TooManyBookings
from app.bookings.schemas import BookingOut
from app.deps import CurrentUser, IdPath, Now, SessionDep, SettingsDep
from app.errors import TooManyRequests, Unauthorized, responses
from app.venue.calendar import BookingRuleViolation
from app.waitlist import confirming, service
from app.waitlist.exceptions import (
    AlreadyWaiting,
    EntryClosed,
    EntryNotFound,
    OfferGone,
    OfferNotFound,
    OfferTaken,
    TableFree,
)
from app.waitlist.schemas import EntryOut, OfferOut, TableFreeError, WaitlistJoin

router = APIRouter(prefix="/waitlist", tags=["waitlist"])

OfferToken = Annotated[
    str, Path(max_length=200, description="The token of the offer's link (from its e-mail)")
]
OFFER_ERRORS = responses(OfferNotFound, OfferGone, TooManyRequests)
OFFER_NOTE = (
    " No sign-in: the token is the key. An unknown token is a 404; an offer that lapsed, "
    "was declined or withdrawn a 410. Rate-limited per client address."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    summary="Join the waitlist for a date, a window of start times and a party",
    description="When a table that fits comes free in the window (a cancellation, a "
    "change, a no-show), the first guest waiting is offered it: it is held for them for "
    "WAITLIST_OFFER_MINUTES (15 by default) and an e-mail links to confirm it. The "
    "booking rules apply (422: party too large, date past, beyond the horizon or closed, "
    "no bookable start in the window). A 409 when a table is free in the window now "
    "(book it: `free_times`), or when already waiting for that date.",
    responses={
        **responses(Unauthorized, BookingRuleViolation),
        409: {
            "model": TableFreeError,
            "description": f"{TableFree.default_message} (with `free_times`); or "
            f"{AlreadyWaiting.default_message.lower()}",
        },
    },
    name="join",
)
async def join(data: WaitlistJoin, user: CurrentUser, session: SessionDep, now: Now) -> EntryOut:
    return await service.join(session, data, user=user, now=now)


@router.get(
    "",
    response_model=list[EntryOut],
    summary="My waitlist entries, today's and later",
    responses=responses(Unauthorized),
    name="mine",
)
async def mine(user: CurrentUser, session: SessionDep, now: Now) -> list[EntryOut]:
    return await service.mine(session, user=user, now=now)


@router.delete(
    "/{entry_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave the waitlist (a table offered goes to the next guest)",
    responses=responses(Unauthorized, EntryNotFound, EntryClosed),
    name="leave",
)
async def leave(
    entry_id: IdPath, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    await service.leave(session, entry_id, user=user, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/offers/{token}",
    response_model=OfferOut,
    summary="The table an offer link holds",
    description="The date, time, party and tables held, and until when." + OFFER_NOTE,
    responses=OFFER_ERRORS,
    name="show_offer",
)
async def offer(token: OfferToken, _: ManageLinks, session: SessionDep, now: Now) -> OfferOut:
    return await confirming.view(session, token, now=now)


@router.post(
    "/offers/{token}/confirm",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    summary="Confirm an offer: the table held becomes the guest's booking",
    description="The booking's confirmation e-mail follows, with its manage link. A "
    "guest's own booking rules apply (fair use: 409)." + OFFER_NOTE,
    responses={
        **OFFER_ERRORS,
        409: {
            "description": f"{OfferTaken.default_message}; or "
            f"{OverlappingBooking.default_message.lower()}; or "
            f"{TooManyBookings.default_message.lower()}"
        },
    },
    name="confirm_offer",
)
async def confirm_offer(
    token: OfferToken, _: ManageLinks, session: SessionDep, settings: SettingsDep, now: Now
) -> BookingOut:
    return await confirming.confirm(session, token, settings=settings, now=now)


@router.post(
    "/offers/{token}/decline",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Decline an offer: the table goes to the next guest waiting",
    description="The entry leaves the waitlist." + OFFER_NOTE,
    responses={**OFFER_ERRORS, **responses(OfferTaken)},
    name="decline_offer",
)
async def decline_offer(
    token: OfferToken, _: ManageLinks, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    await confirming.decline(session, token, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
