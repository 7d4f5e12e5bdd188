"""The routes a booking's guest uses from a link or the web app's confirmation page: the
manage link's GET, PATCH and DELETE /bookings/manage/{token} (no sign-in: the token is
the key), the booking as a calendar file (by the link, or signed in), and the manage link
itself for the booking's account holder. The rules are in app.bookings.manage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from app.bookings import manage
from app.bookings.dependencies import ManageLinks
from app.bookings.exceptions import BookingNotCancellable, BookingNotFound, BookingNotLive
from app.bookings.router import CHANGE_CONFLICT, CHANGE_DESCRIPTION
from app.bookings.schemas import BookingChange, BookingOut, ManageLink
from app.deps import CurrentUser, IdPath, Now, SessionDep, SettingsDep
from app.errors import TooManyRequests, Unauthorized, responses
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
    token: ManageToken, data: BookingChange, links: ManageLinks, session: SessionDep,
    settings: SettingsDep, now: Now,
) -> BookingOut:  # fmt: skip
    return await manage.change_managed(session, links, token, data, settings=settings, now=now)


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


class CalendarResponse(Response):
    """A booking as an iCalendar file to download (app.bookings.manage.CalendarFile)."""

    media_type = "text/calendar"

    def __init__(self, file: manage.CalendarFile, status_code: int = status.HTTP_200_OK) -> None:
        disposition = f'attachment; filename="{file.name}"'
        super().__init__(file.text, status_code, {"Content-Disposition": disposition})


CALENDAR_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The booking as an iCalendar file (METHOD:PUBLISH; the same event, "
        "UID and SEQUENCE, as its e-mails' invitations), as an attachment",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/manage/{token}/calendar.ics",
    response_class=CalendarResponse,
    summary="The booking a manage link names, as a file to add to a calendar",
    description="The same booking as GET /bookings/manage/{token}." + MANAGE_NOTE,
    responses={**CALENDAR_FILE, **MANAGE_ERRORS},
    name="manage_calendar",
)
async def managed_calendar(
    token: ManageToken, links: ManageLinks, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    return CalendarResponse(
        await manage.calendar_managed(session, links, token, settings=settings, now=now)
    )


NOT_LIVE = responses(Unauthorized, BookingNotFound, BookingNotLive)


@router.get(
    "/{booking_id:int}/calendar.ics",
    response_class=CalendarResponse,
    summary="A booking as a file to add to a calendar (its guest, staff)",
    description="Only for a confirmed or seated booking that has not ended (else 409).",
    responses={**CALENDAR_FILE, **NOT_LIVE},
    name="calendar",
)
async def booking_calendar(
    booking_id: IdPath, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    return CalendarResponse(
        await manage.calendar_of(session, booking_id, user=user, settings=settings, now=now)
    )


@router.get(
    "/{booking_id:int}/manage-link",
    response_model=ManageLink,
    summary="A booking's manage link, as its e-mails give it (its guest, staff)",
    description="The web app's page for the booking without signing in "
    "(`{PUBLIC_BASE_URL}/manage/{token}`). Only for a confirmed or seated booking that "
    "has not ended (else 409): the link works for no other.",
    responses=NOT_LIVE,
    name="manage_link",
)
async def manage_link(
    booking_id: IdPath, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now
) -> ManageLink:
    return await manage.manage_link(session, booking_id, user=user, settings=settings, now=now)
