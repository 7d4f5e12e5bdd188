"""Guest records: found or made for each booking, and kept by staff.

A booking's guest is its account's record when a customer books for themselves, or the
record matching the details staff give (by e-mail, else by phone) when they book for
someone else. An account is never joined to a record staff made for its address: an
account does not prove it owns the address it registered with, so that would show the
record (its phone, its bookings) to whoever registered it first."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.bookings.models import Booking, BookingStatus
from app.db.base import UTCDateTime
from app.db.locks import LockSpace, advisory_xact_lock
from app.db.statements import Conn, Query
from app.errors import InvalidInput
from app.guests.contact import optional_e164, phone_digits
from app.guests.exceptions import GuestEmailTaken, GuestLinkedToAccount, GuestNotFound
from app.guests.models import Guest
from app.guests.schemas import GuestIn, GuestOut, GuestSummary, GuestUpdate

_GUESTS = Guest.metadata.tables["guests"]
_OUT = (Guest.id, Guest.name, Guest.phone, Guest.email)
_OF_ACCOUNT = Query(select(*_OUT).where(Guest.user_id == bindparam("user_id", type_=Integer())))
_ACCOUNT = Query(
    select(User.name, User.email, User.phone).where(
        User.id == bindparam("user_id", type_=Integer())
    )
)
# Staff's details match only records staff made: an account's e-mail and phone are its
# holder's word, so matching them would send a stranger's booking (and its manage link)
# to whoever registered that address or number.
_STAFF_MADE = Guest.user_id.is_(None)
_BY_EMAIL = Query(
    select(*_OUT).where(Guest.email == bindparam("email", type_=String()), _STAFF_MADE).limit(1)
)
_BY_PHONE = Query(
    select(*_OUT)
    .where(Guest.phone == bindparam("phone", type_=String()), _STAFF_MADE)
    .order_by(Guest.email.is_not(None), Guest.id.desc())
    .limit(1)
)
_BY_ID = Query(select(*_OUT).where(Guest.id == bindparam("guest_id", type_=Integer())))
_INSERT = Query(
    insert(_GUESTS).returning(_GUESTS.c.id),
    columns=["name", "phone", "email", "user_id", "tags", "created_at", "updated_at"],
)
_FILL_IN = Query(
    update(_GUESTS)
    .where(_GUESTS.c.id == bindparam("guest_id", type_=Integer()), _GUESTS.c.user_id.is_(None))
    .values(
        phone=func.coalesce(_GUESTS.c.phone, bindparam("phone", type_=String())),
        email=func.coalesce(_GUESTS.c.email, bindparam("email", type_=String())),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
)


async def _insert(conn: Conn, *, name: str, phone: str | None, email: str | None,
                  user_id: int | None, now: datetime) -> int:  # fmt: skip
    params: dict[str, Any] = {"name": name, "phone": phone, "email": email,
                              "user_id": user_id, "tags": [], "created_at": now,
                              "updated_at": now}  # fmt: skip
    return int(await conn.fetchval(_INSERT, params))


async def of_account(conn: Conn, user_id: int, *, now: datetime) -> GuestOut:
    """The account's own record, made from the account the first time it books."""
    row = await conn.fetchrow(_OF_ACCOUNT, {"user_id": user_id})
    if row is None:
        await advisory_xact_lock(conn, LockSpace.ACCOUNT, user_id)
        row = await conn.fetchrow(_OF_ACCOUNT, {"user_id": user_id})
    if row is not None:
        return GuestOut(id=row[0], name=row[1], phone=row[2], email=row[3])
    account = await conn.fetchrow(_ACCOUNT, {"user_id": user_id})
    assert account is not None  # the caller has read the account
    name, email, phone = account
    guest_id = await _insert(conn, name=name, phone=phone, email=email, user_id=user_id, now=now)
    return GuestOut(id=guest_id, name=name, phone=phone, email=email)


async def for_details(conn: Conn, data: GuestIn, *, region: str, now: datetime) -> GuestOut:
    """The record of the person staff describe, among those staff made: theirs by
    e-mail, else by phone (one with no other e-mail), else a new one. A found record
    gains the phone or e-mail it lacked and keeps its name (staff correct it with PATCH
    /api/guests/{id}). Both the e-mail's and the phone's lock are held, in one order, so
    two staff describing one new person make one record."""
    phone = optional_e164(data.phone, region, ("body", "guest", "phone"))
    email = data.email
    for key in sorted({zlib.crc32(k.encode()) for k in (email, phone) if k}):
        await advisory_xact_lock(conn, LockSpace.GUEST_CONTACT, key)
    row = await conn.fetchrow(_BY_EMAIL, {"email": email}) if email else None
    if row is None and phone:
        row = await conn.fetchrow(_BY_PHONE, {"phone": phone})
        if row is not None and email and row[3] is not None:
            row = None  # that phone is someone else's with another address
    if row is None:
        guest_id = await _insert(conn, name=data.name, phone=phone, email=email, user_id=None,
                                 now=now)  # fmt: skip
        return GuestOut(id=guest_id, name=data.name, phone=phone, email=email)
    guest_id, _name, known_phone, known_email = row
    if (phone and not known_phone) or (email and not known_email):
        await conn.execute(_FILL_IN, {"guest_id": guest_id, "phone": phone, "email": email,
                                      "now": now})  # fmt: skip
        row = await conn.fetchrow(_BY_ID, {"guest_id": guest_id})  # as stored
        assert row is not None
    return GuestOut(id=row[0], name=row[1], phone=row[2], email=row[3])


# -- staff: find, read, keep ------------------------------------------------------------


def _count(*statuses: BookingStatus) -> Any:
    return (
        select(func.count(Booking.id))
        .where(Booking.guest_id == Guest.id, Booking.status.in_(statuses))
        .correlate(Guest)
        .scalar_subquery()
    )


_SUMMARY = select(
    Guest,
    _count(BookingStatus.seated, BookingStatus.completed).label("visits"),
    _count(BookingStatus.cancelled).label("cancellations"),
    _count(BookingStatus.no_show).label("no_shows"),
)


def _summary(guest: Guest, visits: int, cancellations: int, no_shows: int) -> GuestSummary:
    return GuestSummary(
        id=guest.id, name=guest.name, phone=guest.phone, email=guest.email,
        user_id=guest.user_id, notes=guest.notes, allergies=guest.allergies,
        tags=list(guest.tags or []), visits=visits, cancellations=cancellations,
        no_shows=no_shows, created_at=guest.created_at,
    )  # fmt: skip


def matching(q: str) -> Any:
    """Guests whose name, e-mail or phone contains `q` (case-insensitive; a phone
    written as dialled matches its E.164 form)."""
    text = q.strip()
    found = [Guest.name.icontains(text, autoescape=True),
             Guest.email.icontains(text, autoescape=True)]  # fmt: skip
    digits = phone_digits(text)
    if digits:
        found.append(Guest.phone.contains(digits, autoescape=True))
    return or_(*found)


async def search(
    session: AsyncSession, *, q: str | None, limit: int, offset: int
) -> tuple[list[GuestSummary], int]:
    query = _SUMMARY
    counted = select(func.count(Guest.id))
    if q and q.strip():
        query, counted = query.where(matching(q)), counted.where(matching(q))
    total = int(await session.scalar(counted) or 0)
    rows = await session.execute(query.order_by(Guest.name, Guest.id).limit(limit).offset(offset))
    return [_summary(*row) for row in rows], total


async def summary(session: AsyncSession, guest_id: int) -> GuestSummary:
    row = (await session.execute(_SUMMARY.where(Guest.id == guest_id))).first()
    if row is None:
        raise GuestNotFound(f"Guest {guest_id} not found")
    return _summary(*row)


async def update_guest(
    session: AsyncSession, guest_id: int, data: GuestUpdate, *, region: str
) -> GuestSummary:
    guest = await session.get(Guest, guest_id, with_for_update=True)
    if guest is None:
        raise GuestNotFound(f"Guest {guest_id} not found")
    given = data.model_dump(exclude_unset=True)
    if "email" in given and given["email"] != guest.email:
        if guest.user_id is not None:
            raise GuestLinkedToAccount()
        if given["email"] is not None:
            taken = await session.scalar(
                select(Guest.id).where(
                    Guest.email == given["email"], Guest.user_id.is_(None), Guest.id != guest.id
                )
            )
            if taken is not None:
                raise GuestEmailTaken(f"Guest {taken} has the e-mail address {given['email']}")
        guest.email = given["email"]
    if "phone" in given:
        guest.phone = optional_e164(given["phone"], region)
    if guest.phone is None and guest.email is None:
        raise InvalidInput("A guest keeps a phone number or an e-mail address (or both)")
    if given.get("name") is not None:
        guest.name = given["name"]
    if "tags" in given:
        guest.tags = list(given["tags"] or [])
    for field in ("notes", "allergies"):  # null or "" clears them
        if field in given:
            setattr(guest, field, given[field] or None)
    await session.flush()
    return await summary(session, guest.id)


async def release_account(session: AsyncSession, user: User) -> None:
    """Before an account is deleted: its record stays for its bookings, as one staff
    made. Where staff made one for the same address already, the account's bookings
    move to that one (one record per address among them) and its own is removed."""
    own = await session.scalar(select(Guest).where(Guest.user_id == user.id))
    if own is None:
        return
    other = None
    if own.email is not None:
        other = await session.scalar(
            select(Guest).where(Guest.email == own.email, _STAFF_MADE).with_for_update()
        )
    if other is None:
        own.user_id = None
        await session.flush()
        return
    await session.execute(
        update(Booking).where(Booking.guest_id == own.id).values(guest_id=other.id)
    )
    other.phone = other.phone or own.phone
    await session.delete(own)
    await session.flush()


async def sync_account(session: AsyncSession, user: User) -> None:
    """An account's record follows its name, e-mail and phone."""
    await session.execute(
        update(Guest)
        .where(Guest.user_id == user.id)
        .values(name=user.name, email=user.email, phone=user.phone)
    )
