"""Accounts, logins and token rotation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.auth import passwords, security
from app.auth.exceptions import (
    BadCredentials,
    InvalidRefreshToken,
    LastAdmin,
    UserNotFound,
    WrongCurrentPassword,
)
from app.auth.models import RefreshToken, Role, User
from app.auth.schemas import MeUpdate, TokenPair, UserAdminUpdate, UserCreate
from app.bookings.models import Booking, BookingSource, BookingStatus
from app.config import Settings
from app.db.base import utcnow
from app.errors import InvalidInput
from app.floor.models import RestaurantTable
from app.guests import service as guests
from app.guests.contact import optional_e164
from app.notifications import outbox
from app.notifications.models import MessageKind
from app.venue import service as venue_service
from app.waitlist import offers as waitlist_offers
from app.waitlist.models import EntryStatus, WaitlistEntry


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


ACCOUNT_EXISTS_EVERY = timedelta(hours=1)


async def register(
    session: AsyncSession, data: UserCreate, *, settings: Settings, now: datetime
) -> User | None:
    """Make a customer account, or, when the address has one already, write to it that
    someone tried (and change nothing). Both take the same work (a password hash and an
    e-mail queued), so neither the answer nor its timing tells a stranger which addresses
    have accounts. Returns the new user, or None.

    The hash is made outside any transaction (see DeferredSessionDep); the unique e-mail
    constraint catches a registration that raced this one meanwhile."""
    phone = optional_e164(data.phone, settings.phone_region)  # a 422 before any work
    existing = await get_by_email(session, data.email)
    # At most one note an hour to an address, so nobody can fill its owner's inbox by
    # registering it. Read now: on SQLite a transaction that reads, then writes, can be
    # refused when another writer came between.
    noted = existing is not None and await outbox.sent_lately(
        session, MessageKind.account_exists, data.email, since=now - ACCOUNT_EXISTS_EVERY
    )
    venue = await venue_service.venue_for(session)  # for the e-mail, read with the rest
    await session.commit()  # end the read: no connection or lock is held while hashing
    hashed = await security.hash_password(data.password, settings.bcrypt_rounds)
    if existing is None:
        user = User(
            email=data.email, name=data.name, phone=phone, hashed_password=hashed,
            role=Role.customer, is_active=True,
        )  # fmt: skip
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()  # registered meanwhile: as for an existing account
        else:
            await outbox.account_message(
                session, MessageKind.account_welcome, settings=settings, recipient=user.email,
                name=user.name, now=now, venue=venue,
            )  # fmt: skip
            return user
    if not noted:
        await outbox.account_message(
            session, MessageKind.account_exists, settings=settings, recipient=data.email,
            name=existing.name if existing is not None else data.name, now=now, venue=venue,
        )  # fmt: skip
    return None


async def authenticate(
    session: AsyncSession, email: str, password: str, *, settings: Settings
) -> User:
    """Check the password outside any transaction (the read is ended first), so slow
    bcrypt work holds no connection and no lock."""
    user = await get_by_email(session, email)
    await session.commit()
    if user is None:
        await security.dummy_verify(password, settings.bcrypt_rounds)
        raise BadCredentials()
    if not await security.verify_password(password, user.hashed_password) or not user.is_active:
        raise BadCredentials()
    if security.hash_cost(user.hashed_password) != settings.bcrypt_rounds:
        # BCRYPT_ROUNDS changed since this hash was made: a login costs the same for
        # every account again (and an unknown e-mail's dummy check matches it).
        user.hashed_password = await security.hash_password(password, settings.bcrypt_rounds)
    return user


async def issue_tokens(
    session: AsyncSession, user: User, *, settings: Settings, family: str | None = None
) -> TokenPair:
    family = family or uuid.uuid4().hex
    access, _ = security.encode_token(
        secret=settings.secret_key,
        user_id=user.id,
        role=user.role.value,
        token_type="access",
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    refresh, claims = security.encode_token(
        secret=settings.secret_key,
        user_id=user.id,
        role=user.role.value,
        token_type="refresh",
        lifetime=timedelta(days=settings.refresh_token_days),
        family=family,
    )
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family,
            token_hash=security.token_digest(claims.jti),
            expires_at=claims.exp,
        )
    )
    await session.flush()
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
    )


async def login(
    session: AsyncSession, email: str, password: str, *, settings: Settings
) -> TokenPair:
    user = await authenticate(session, email, password, settings=settings)
    return await issue_tokens(session, user, settings=settings)


async def _load_refresh(
    session: AsyncSession, token: str, *, settings: Settings
) -> tuple[security.TokenClaims, RefreshToken]:
    try:
        claims = security.decode_token(token, secret=settings.secret_key, expected_type="refresh")
    except security.InvalidToken as exc:
        raise InvalidRefreshToken() from exc
    record = await session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == security.token_digest(claims.jti))
        .with_for_update()
    )
    if record is None or record.user_id != claims.sub:
        raise InvalidRefreshToken()
    return claims, record


async def _revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def refresh(session: AsyncSession, token: str, *, settings: Settings) -> TokenPair:
    """Rotate: revoke the presented token, issue a new pair in the same family.

    A revoked token presented again means it leaked: the whole family is revoked and the
    revocation is committed even though the request answers 401.
    """
    _claims, record = await _load_refresh(session, token, settings=settings)
    if record.revoked_at is not None:
        await _revoke_family(session, record.family_id)
        await session.commit()
        raise InvalidRefreshToken(
            "Refresh token was already used or logged out; sign in again "
            "(every token of that sign-in is now revoked)"
        )
    user = await session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshToken()
    record.revoked_at = utcnow()
    return await issue_tokens(session, user, settings=settings, family=record.family_id)


async def logout(session: AsyncSession, token: str, *, settings: Settings) -> None:
    _claims, record = await _load_refresh(session, token, settings=settings)
    if record.revoked_at is None:
        record.revoked_at = utcnow()


async def update_me(
    session: AsyncSession, user: User, data: MeUpdate, *, settings: Settings
) -> User:
    if data.name is not None:
        user.name = data.name
    if "phone" in data.model_fields_set:
        user.phone = optional_e164(data.phone, settings.phone_region)
    if data.password is not None:
        if data.current_password is None or not await security.verify_password(
            data.current_password, user.hashed_password
        ):
            raise WrongCurrentPassword()
        reason = passwords.problem(data.password, email=user.email)
        if reason:
            raise InvalidInput(reason)
        user.hashed_password = await security.hash_password(data.password, settings.bcrypt_rounds)
        await revoke_user_tokens(session, user.id)
    await session.flush()
    await guests.sync_account(session, user)  # their guest record follows the account
    return user


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def list_users(
    session: AsyncSession, *, role: Role | None, limit: int, offset: int
) -> tuple[list[User], int]:
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(User.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


async def _ensure_other_admin(session: AsyncSession, user: User) -> None:
    """Refuse to remove the last active admin. Admin rows are locked so two admins
    demoting each other at once cannot both succeed."""
    admins = await session.scalars(
        select(User.id).where(User.role == Role.admin, User.is_active.is_(True)).with_for_update()
    )
    if [uid for uid in admins if uid != user.id] == []:
        raise LastAdmin()


async def admin_update(session: AsyncSession, user_id: int, data: UserAdminUpdate) -> User:
    user = await get_user(session, user_id)
    losing_admin = (
        user.role == Role.admin
        and user.is_active
        and ((data.role is not None and data.role != Role.admin) or data.is_active is False)
    )
    if losing_admin:
        await _ensure_other_admin(session, user)
    if data.role is not None:
        user.role = data.role
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            await revoke_user_tokens(session, user.id)
    if data.name is not None:
        user.name = data.name
    await session.flush()
    await guests.sync_account(session, user)
    return user


async def delete_user(
    session: AsyncSession, user_id: int, *, settings: Settings, now: datetime
) -> int:
    """Delete an account. Its bookings still to come are cancelled first, and each guest
    told by e-mail, so no table stays blocked for a guest nobody can reach; past
    bookings stay, without their user. Returns how many bookings were cancelled."""
    user = await get_user(session, user_id)
    if user.role == Role.admin and user.is_active:
        await _ensure_other_admin(session, user)
    coming = await session.execute(
        select(Booking, RestaurantTable.table_number)
        .join(RestaurantTable, RestaurantTable.id == Booking.table_id)
        .where(
            Booking.user_id == user.id,
            # their own; bookings a staff member took for guests outlive the account
            Booking.source == BookingSource.online,
            Booking.status == BookingStatus.confirmed,
            Booking.starts_at > now,
        )
        .order_by(Booking.starts_at)
        .with_for_update(of=Booking)
    )
    # Its waitlist entries leave the list first: a table offered to it goes to the next.
    entries = await session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.user_id == user.id, WaitlistEntry.status.in_(waitlist_offers.OPEN)
        )
    )
    for entry in sorted(entries.all(), key=lambda e: e.day):
        await waitlist_offers.withdraw(
            session, entry, EntryStatus.cancelled, settings=settings, now=now
        )
    venue = await venue_service.venue_for(session)
    freed_on: set[date] = set()
    cancelled = 0
    for booking, table_number in coming.all():
        booking.status = BookingStatus.cancelled
        booking.cancelled_at = booking.updated_at = now
        await session.flush()
        await outbox.booking_cancelled(
            session, booking, settings=settings, recipient=user.email, name=user.name,
            table_number=table_number,
            now=now, by_restaurant=True,
        )  # fmt: skip
        cancelled += 1
        metrics.BOOKINGS.labels("cancelled").inc()
        freed_on.add(venue.local(booking.starts_at).date())
    for day in sorted(freed_on):  # the tables it had go to the waitlist
        await waitlist_offers.table_freed(session, day, settings=settings, now=now)
    await guests.release_account(session, user)  # the guest record outlives the account
    await session.delete(user)
    await session.flush()
    return cancelled


async def create_admin(
    session: AsyncSession, *, email: str, password: str, name: str, settings: Settings
) -> tuple[User, bool]:
    """Create an admin, or promote (and re-password) an existing user. Returns (user, created)."""
    user = await get_by_email(session, email)
    hashed = await security.hash_password(password, settings.bcrypt_rounds)
    if user is None:
        user = User(email=email.lower(), name=name, hashed_password=hashed, role=Role.admin)
        session.add(user)
        await session.flush()
        return user, True
    user.role = Role.admin
    user.is_active = True
    user.hashed_password = hashed
    await session.flush()
    return user, False
