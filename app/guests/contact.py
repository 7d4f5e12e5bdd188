"""Phone numbers: validated and stored in E.164 (the maintained `phonenumbers` library)."""

from __future__ import annotations

import re

import phonenumbers

from app.guests.exceptions import InvalidPhone

_DIGITS = re.compile(r"\d")
_PHONE_LIKE = re.compile(r"^[\d\s()+.\-]{3,32}$")


def _invalid(message: str, loc: tuple[str, ...]) -> InvalidPhone:
    # Located like a validation error, so a form can tie the message to its field.
    return InvalidPhone(message, errors=[{"loc": list(loc), "msg": message, "type": "phone"}])


def e164(raw: str, region: str, loc: tuple[str, ...] = ("body", "phone")) -> str:
    """`raw` as +CCNNNN...; a number without +country code is read as one of `region`.
    A number that cannot be dialled is an InvalidPhone (422) saying so, with `errors`
    naming the field at `loc`."""
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _invalid(
            f"{raw!r} is not a valid phone number; give it with its country code, "
            "e.g. +44 20 7946 0000",
            loc,
        )
    if number.extension:  # E.164 has no room for one: it would be dropped silently
        raise _invalid(f"{raw!r} has an extension; give the number a guest can be called on", loc)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def optional_e164(
    raw: str | None, region: str, loc: tuple[str, ...] = ("body", "phone")
) -> str | None:
    return None if raw is None or not raw.strip() else e164(raw, region, loc)


def phone_digits(query: str) -> str | None:
    """The digits to look for in stored numbers when a search looks like a phone number
    ("020 7946", "+44 20 7946 0000"): a national number loses its leading 0, as E.164
    writes it."""
    if not _PHONE_LIKE.match(query.strip()):
        return None
    digits = "".join(_DIGITS.findall(query))
    if len(digits) < 3:
        return None
    return digits.lstrip("0") or None
