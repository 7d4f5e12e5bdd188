"""The links the service puts in e-mails, for the web app's pages: each carries a signed
token (HS256, SECRET_KEY) naming one thing and one purpose, so a token made for one use
is refused for any other (and none is ever an access token: their `type` differs).

- manage: `{PUBLIC_BASE_URL}/manage/{token}` names one booking and the guest it was made
  for; the booking service refuses it once the booking has ended, is cancelled or has
  another guest, so the link needs no expiry of its own and survives a change of time.
- waitlist offer: `{PUBLIC_BASE_URL}/waitlist/offers/{token}` carries a random token (not
  signed: app.waitlist.offers keeps only its SHA-256), naming one offer until it lapses.
- reset: `{PUBLIC_BASE_URL}/account/reset?token=...` names one account and a fingerprint
  of its password hash: once the password changes the token no longer matches (single
  use), and it expires after PASSWORD_RESET_MINUTES.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.config import Settings

ALGORITHM = "HS256"


@dataclass(frozen=True)
class ManageClaims:
    booking_id: int
    guest_id: int | None


@dataclass(frozen=True)
class ResetClaims:
    user_id: int
    fingerprint: str


def password_fingerprint(password_hash: str) -> str:
    """A short digest of an account's password hash: changes whenever the password does."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class Links:
    def __init__(self, settings: Settings) -> None:
        self.base = settings.public_base_url.rstrip("/")
        self._secret = settings.secret_key
        self._reset_lifetime = timedelta(minutes=settings.password_reset_minutes)

    # -- signing -----------------------------------------------------------------------
    def _sign(self, purpose: str, claims: dict[str, Any]) -> str:
        return jwt.encode({"type": purpose, **claims}, self._secret, algorithm=ALGORITHM)

    def _read(self, token: str, purpose: str, required: list[str]) -> dict[str, Any] | None:
        if not token or len(token) > 2048:
            return None
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["type", *required]},
            )
        except jwt.PyJWTError:
            return None
        return payload if payload.get("type") == purpose else None

    # -- manage a booking --------------------------------------------------------------
    def manage_token(self, booking_id: int, guest_id: int | None) -> str:
        return self._sign("manage", {"bid": booking_id, "gid": guest_id})

    def manage_url(self, booking_id: int, guest_id: int | None) -> str:
        return f"{self.base}/manage/{self.manage_token(booking_id, guest_id)}"

    def read_manage_token(self, token: str) -> ManageClaims | None:
        payload = self._read(token, "manage", ["bid"])
        if payload is None:
            return None
        booking_id, guest_id = payload.get("bid"), payload.get("gid")
        if type(booking_id) is not int or not (guest_id is None or type(guest_id) is int):
            return None
        return ManageClaims(booking_id=booking_id, guest_id=guest_id)

    # -- a waitlist offer --------------------------------------------------------------
    def offer_url(self, token: str) -> str:
        return f"{self.base}/waitlist/offers/{token}"

    # -- reset a password --------------------------------------------------------------
    def reset_token(self, user_id: int, password_hash: str, now: datetime | None = None) -> str:
        expires = (now or datetime.now(UTC)) + self._reset_lifetime
        fingerprint = password_fingerprint(password_hash)
        return self._sign("reset", {"uid": user_id, "fp": fingerprint, "exp": expires})

    def reset_url(self, user_id: int, password_hash: str, now: datetime | None = None) -> str:
        return f"{self.base}/account/reset?token={self.reset_token(user_id, password_hash, now)}"

    def read_reset_token(self, token: str) -> ResetClaims | None:
        payload = self._read(token, "reset", ["uid", "fp", "exp"])
        if payload is None:
            return None
        user_id, fingerprint = payload.get("uid"), payload.get("fp")
        if type(user_id) is not int or not isinstance(fingerprint, str):
            return None
        return ResetClaims(user_id=user_id, fingerprint=fingerprint)
