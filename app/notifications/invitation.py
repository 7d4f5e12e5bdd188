"""The calendar invitation a booking e-mail carries (iCalendar, RFC 5545; its use in
e-mail, iTIP/iMIP, RFC 5546 and 6047), built with the `icalendar` library.

One booking is one calendar event for its whole life: its UID never changes
(`booking-<id>@<the sender's domain>`), and each notice raises its SEQUENCE, so a
calendar replaces what it holds with the newest notice (and ignores an older one that
arrives late). A confirmation or a change is a REQUEST, a cancellation a CANCEL. The file
a guest downloads to add the booking themselves (GET /bookings/.../calendar.ics) is the
same event, as a PUBLISH: no attendee, nothing to answer.

SEQUENCE needs no column of its own: a notice's sequence is the number of change and
cancellation notices of its booking queued up to and including it (outbox ids only
grow), so a confirmation is 0, each change one more, and a cancellation above the last
change. The dispatcher gathers an `Invitation` while it claims messages (in the claim's
transaction, where it reads the booking anyway) and builds the text when it sends, out of
any transaction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import icalendar
from icalendar import vCalAddress, vDDDTypes, vInt, vText

from app.bookings.models import Booking
from app.config import Settings
from app.links import Links
from app.notifications.models import MessageKind
from app.venue import contact
from app.venue.calendar import Venue

# The kinds that carry an invitation, and its method.
METHODS: dict[MessageKind, str] = {
    MessageKind.booking_confirmed: "REQUEST",
    MessageKind.booking_changed: "REQUEST",
    MessageKind.booking_cancelled: "CANCEL",
}
# The kinds that raise a booking's SEQUENCE.
RAISING = frozenset({MessageKind.booking_changed, MessageKind.booking_cancelled})
PUBLISH = "PUBLISH"  # the downloaded file's method (RFC 5546: an event, no reply)
PRODID = "-//Restaurant service//Bookings//EN"
FILENAME = "booking.ics"


def sender_address(mail_from: str) -> str:
    """The address part of MAIL_FROM ("Name <a@b>" -> "a@b")."""
    return parseaddr(mail_from)[1]


@functools.cache
def booking_uid(booking_id: int, mail_from: str) -> str:
    domain = sender_address(mail_from).rpartition("@")[2] or "localhost"
    return f"booking-{booking_id}@{domain}"


@functools.lru_cache(maxsize=32)
def _vtimezone(zone: str, year: int) -> bytes:
    """The VTIMEZONE of `zone` for the booking's year and the next, serialised: building
    and serialising it costs more than the rest of the invitation, and it is the same
    for every booking of a year."""
    component = icalendar.Timezone.from_tzinfo(
        ZoneInfo(zone), first_date=date(year, 1, 1), last_date=date(year + 1, 12, 31)
    )
    return component.to_ical()


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


@dataclass(frozen=True, slots=True)
class Invitation:
    """What a booking e-mail's calendar part says; `to_ics` writes it."""

    method: str  # REQUEST or CANCEL (an e-mail's), PUBLISH (a download)
    uid: str
    sequence: int
    starts_at: datetime  # aware, in the restaurant's zone
    ends_at: datetime
    stamp: datetime  # when the notice was written (DTSTAMP)
    summary: str
    location: str
    description: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str  # none in a PUBLISH

    def to_ics(self) -> str:
        calendar = icalendar.Calendar()
        calendar["PRODID"] = vText(PRODID)
        calendar["VERSION"] = vText("2.0")
        calendar["METHOD"] = vText(self.method)
        event = icalendar.Event()
        event["UID"] = vText(self.uid)
        event["SEQUENCE"] = vInt(self.sequence)
        event["DTSTAMP"] = vDDDTypes(self.stamp)
        event["DTSTART"] = vDDDTypes(self.starts_at)
        event["DTEND"] = vDDDTypes(self.ends_at)
        event["SUMMARY"] = vText(self.summary)
        if self.location:
            event["LOCATION"] = vText(self.location)
        if self.description:
            event["DESCRIPTION"] = vText(self.description)
        event["STATUS"] = vText("CANCELLED" if self.method == "CANCEL" else "CONFIRMED")
        event["TRANSP"] = vText("OPAQUE")
        event["ORGANIZER"] = _address(self.organizer_email, self.organizer_name)
        if self.attendee_email:
            event["ATTENDEE"] = _address(
                self.attendee_email, self.attendee_name, ROLE="REQ-PARTICIPANT",
                PARTSTAT="ACCEPTED", RSVP="FALSE",
            )  # fmt: skip
        calendar.add_component(event)
        text = calendar.to_ical()
        # The zone's definition goes before the event (RFC 5545 wants one for every TZID
        # used); kept serialised per zone and year rather than rebuilt each time.
        zone = self.starts_at.tzinfo
        if isinstance(zone, ZoneInfo):
            vtimezone = _vtimezone(zone.key, self.starts_at.year)
            text = text.replace(b"BEGIN:VEVENT\r\n", vtimezone + b"BEGIN:VEVENT\r\n", 1)
        return text.decode()


def for_booking(
    kind: MessageKind,
    booking: Booking,
    *,
    settings: Settings,
    venue: Venue,
    recipient: str,
    guest_name: str,
    sequence: int,
    now: datetime,
) -> Invitation:
    """The invitation a notice of `kind` about `booking` carries (a kind of METHODS)."""
    return _event(
        METHODS[kind], booking, settings=settings, venue=venue, attendee=recipient,
        guest_name=guest_name, sequence=sequence, now=now,
    )  # fmt: skip


def for_download(
    booking: Booking, *, settings: Settings, venue: Venue, sequence: int, now: datetime
) -> Invitation:
    """The booking as a file its guest adds to a calendar (the web app's "add to
    calendar"): the same event as its e-mails' invitations (UID, and `sequence`: that of
    its latest notice), as a PUBLISH without attendee."""
    return _event(
        PUBLISH, booking, settings=settings, venue=venue, attendee="", guest_name="",
        sequence=sequence, now=now,
    )  # fmt: skip


def _event(
    method: str,
    booking: Booking,
    *,
    settings: Settings,
    venue: Venue,
    attendee: str,
    guest_name: str,
    sequence: int,
    now: datetime,
) -> Invitation:
    party = f"{booking.party_size} {'guest' if booking.party_size == 1 else 'guests'}"
    lines = [f"Table for {party} at {venue.name}.", f"Booking reference: #{booking.id}."]
    if method != "CANCEL":
        manage_url = Links(settings).manage_url(booking.id, booking.guest_id)
        lines.append(f"Change or cancel your booking: {manage_url}")
    reach = contact.effective(settings, venue.contact)
    if reach.phone:
        lines.append(f"Call us on {reach.phone}.")
    return Invitation(
        method=method,
        uid=booking_uid(booking.id, settings.mail_from),
        sequence=sequence,
        starts_at=venue.local(booking.starts_at),
        ends_at=venue.local(booking.ends_at),
        stamp=now,
        summary=f"{venue.name}: table for {party}",
        location=reach.address,
        description="\n".join(lines),
        organizer_name=venue.name,
        organizer_email=reach.email or sender_address(settings.mail_from),
        attendee_name=guest_name,
        attendee_email=attendee,
    )
