"""How guests reach the restaurant: phone, e-mail, address and website.

An admin sets them (PATCH /restaurant, the manager's console) and the settings row keeps
them; a detail not set there (null) is the environment's (RESTAURANT_PHONE,
RESTAURANT_EMAIL, RESTAURANT_ADDRESS, RESTAURANT_WEBSITE), so those are the defaults.
Guest pages, e-mails and calendar invitations all show the effective details, from the
`Venue` snapshot a request or a render batch already reads."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings

FIELDS = ("phone", "email", "address", "website")


@dataclass(frozen=True)
class Contact:
    """Each detail, "" where it is not set."""

    phone: str = ""
    email: str = ""
    address: str = ""
    website: str = ""


def effective(settings: Settings, stored: Contact) -> Contact:
    """The details as shown: each one stored in the settings row, else the environment's."""
    return Contact(
        phone=stored.phone or settings.restaurant_phone.strip(),
        email=stored.email or settings.restaurant_email.strip(),
        address=stored.address or settings.restaurant_address.strip(),
        website=stored.website or settings.restaurant_website.strip(),
    )


def stored_of(row: object) -> Contact:
    """The details a settings row (or a snapshot of one) holds; null is ""."""
    return Contact(**{name: (getattr(row, name, None) or "").strip() for name in FIELDS})
