"""What an e-mail says: the templates, and the values they are given.

Guest e-mails speak to people: the restaurant's name and how to reach it (in every
e-mail's footer, as an admin set it else the RESTAURANT_* settings: app.venue.contact;
details not set are left out), the booking's local date and
time, a booking reference, and a link to change or cancel it (Links.manage_url), never
an API path, an HTTP verb or an internal id."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.bookings.models import Booking
from app.config import Settings
from app.links import Links
from app.notifications.models import MessageKind
from app.venue import contact
from app.venue.calendar import Venue
from app.venue.contact import Contact


@lru_cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("app.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(kind: MessageKind, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, html) for a message kind."""
    env = _templates()
    subject = env.get_template(f"{kind.value}.subject.j2").render(context).strip()
    text = env.get_template(f"{kind.value}.txt.j2").render(context)
    html = env.get_template(f"{kind.value}.html.j2").render({**context, "subject": subject})
    return subject, text, html


def _tel(phone: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", phone)


def _website_href(website: str) -> str:
    return website if website.startswith(("http://", "https://")) else f"https://{website}"


@lru_cache(maxsize=8)
def _contact(phone: str, email: str, address: str, website: str) -> tuple[dict[str, str], ...]:
    items = []
    if phone:
        items.append({"label": "Phone", "text": phone, "href": _tel(phone)})
    if email:
        items.append({"label": "E-mail", "text": email, "href": f"mailto:{email}"})
    if address:
        items.append({"label": "Address", "text": address, "href": ""})
    if website:
        items.append({"label": "Website", "text": website, "href": _website_href(website)})
    return tuple(items)


def contact_details(reach: Contact) -> tuple[dict[str, str], ...]:
    """The restaurant's contact details that are set, each with a label, its text and a
    link (tel:, mailto:, https:; none for the address), in the order they are shown."""
    return _contact(reach.phone, reach.email, reach.address, reach.website)


def common_context(settings: Settings, venue: Venue) -> dict[str, Any]:
    """What every e-mail's layout needs: the restaurant's name and how to reach it (from
    the settings row the `venue` snapshot was read from, else the environment)."""
    reach = contact.effective(settings, venue.contact)
    return {
        "restaurant": venue.name,
        "contact": contact_details(reach),
        "phone": reach.phone,
        "phone_href": _tel(reach.phone),
        "site_url": settings.public_base_url.rstrip("/"),
    }


def booking_context(
    settings: Settings, venue: Venue, booking: Booking, guest_name: str, table_number: int
) -> dict[str, Any]:
    """The values of a booking e-mail, from the booking as it stands."""
    local = venue.local(booking.starts_at)
    return {
        **common_context(settings, venue),
        "name": guest_name,
        "timezone": venue.zone.key,
        "date": f"{local:%A} {local.day} {local:%B %Y}",
        "time": f"{local:%H:%M}",
        "party_size": booking.party_size,
        "table_number": table_number,
        "booking_id": booking.id,  # shown as the booking reference
        "special_requests": booking.special_requests or "",
        "manage_url": Links(settings).manage_url(booking.id, booking.guest_id),
        "by_restaurant": False,
        "note": "",
    }
