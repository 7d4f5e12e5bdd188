"""The manage link's routes, GET, PATCH and DELETE /bookings/manage/{token}: no sign-in,
the token is the key. The rules are in app.bookings.manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.bookings import manage
from app.bookings.dependencies import ManageLinks
from app.bookings.exceptions import BookingNotCancellable, BookingNotFound
from app.bookings.router import CHANGE_CONFLICT, CHANGE_DESCRIPTION
from app.bookings.schemas import BookingChange, BookingOut
from app.deps import Now, SessionDep, SettingsDep
from app.errors import TooManyRequests, responses
from app.guests.exceptions import BookingForOthersForbidden
from app.venue.calendar import BookingRuleViolation

router = APIRouter(prefix="/bookings", tags=["bookings"])

ManageToken = Annotated[
    str, Path(description="The token of the booking's manage link (from its e-mails)")
]
MANAGE_ERRORS = responses(BookingNotFound, TooManyRequests)
MANAGE_NOTE = (
    " No sign-in: the token is the key. A wrong or expired link, or a booking that has "
    "ended or is cancelled, is a 404. Rate-limited per client address."
)


@router.get(
    "/manage/{token}",
    response_model=BookingOut,
    summary="The booking a manage link names",
    description="What the guest sees at the link in their e-mails." + MANAGE_NOTE,
    responses=MANAGE_ERRORS,
    name="manage_get",
)
async def get_managed(
    token: ManageToken, links: ManageLinks, session: SessionDep, now: Now
) -> BookingOut:
    return await manage.get_managed(session, links, token, now=now)


@router.patch(
    "/manage/{token}",
    response_model=BookingOut,
    summary="Change the booking a manage link names (a customer's rules)",
    description=CHANGE_DESCRIPTION + MANAGE_NOTE,
    responses={
        **MANAGE_ERRORS,
        **responses(BookingForOthersForbidden, BookingRuleViolation),
        **CHANGE_CONFLICT,
    },
    name="manage_change",
)
async def change_managed(
    token: ManageToken, data: BookingChange, links: ManageLinks, session: SessionDep, now: Now
) -> BookingOut:
    return await manage.change_managed(session, links, token, data, now=now)


@router.delete(
    "/manage/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel the booking a manage link names (outside the cancel cutoff)",
    description="Its table is free again at once." + MANAGE_NOTE,
    responses={**MANAGE_ERRORS, **responses(BookingNotCancellable)},
    name="manage_cancel",
)
async def cancel_managed(
    token: ManageToken, links: ManageLinks, session: SessionDep, now: Now, settings: SettingsDep
) -> Response:
    await manage.cancel_managed(session, links, token, settings=settings, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
