"""Password hashing (bcrypt, off the event loop) and JWT (PyJWT, HS256)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import anyio
import bcrypt
import jwt

from app.auth.passwords import MAX_PASSWORD_BYTES

ALGORITHM = "HS256"
# access: every API route; refresh: a new access token; stream: only the live streams.
TokenType = Literal["access", "refresh", "stream"]

# A browser's EventSource cannot send an Authorization header: POST /auth/session/stream
# puts a short-lived stream token in this cookie, which only the live streams read.
STREAM_COOKIE = "restaurant_stream"
STREAM_COOKIE_PATH = "/api/"
STREAM_TOKEN_LIFETIME = timedelta(minutes=10)


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def _check_sync(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


def hash_cost(hashed: str) -> int | None:
    """The cost (log2 rounds) a bcrypt hash was made with: "$2b$12$..." -> 12."""
    parts = hashed.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


async def hash_password(password: str, rounds: int = 12) -> str:
    return await anyio.to_thread.run_sync(_hash_sync, password, rounds)


async def verify_password(password: str, hashed: str) -> bool:
    return await anyio.to_thread.run_sync(_check_sync, password, hashed)


_dummy_hashes: dict[int, str] = {}


async def dummy_verify(password: str, rounds: int) -> None:
    """Spend the time of one real check, so an unknown e-mail answers as slowly as a known one."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = await hash_password(uuid.uuid4().hex, rounds)
    await verify_password(password[:MAX_PASSWORD_BYTES], _dummy_hashes[rounds])


@dataclass(frozen=True)
class TokenClaims:
    sub: int
    role: str
    type: TokenType
    jti: str
    exp: datetime
    family: str | None = None


def encode_token(
    *,
    secret: str,
    user_id: int,
    role: str,
    token_type: TokenType,
    lifetime: timedelta,
    family: str | None = None,
) -> tuple[str, TokenClaims]:
    now = datetime.now(UTC)
    claims = TokenClaims(
        sub=user_id,
        role=role,
        type=token_type,
        jti=uuid.uuid4().hex,
        exp=now + lifetime,
        family=family,
    )
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "type": token_type,
        "iat": now,
        "exp": claims.exp,
        "jti": claims.jti,
    }
    if family:
        payload["fam"] = family
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


class InvalidToken(Exception):
    pass


def decode_token(token: str, *, secret: str, expected_type: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "type", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("Invalid token") from exc
    if payload.get("type") != expected_type:
        raise InvalidToken(f"Expected an {expected_type} token")
    try:
        user_id = int(payload["sub"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("Invalid token subject") from exc
    return TokenClaims(
        sub=user_id,
        role=str(payload.get("role", "")),
        type=expected_type,
        jti=str(payload["jti"]),
        exp=datetime.fromtimestamp(payload["exp"], UTC),
        family=payload.get("fam"),
    )


@lru_cache(maxsize=4096)
def _verified_access_token(token: str, secret: str) -> TokenClaims:
    return decode_token(token, secret=secret, expected_type="access")


def decode_access_token(token: str, *, secret: str, now: datetime | None = None) -> TokenClaims:
    """Like decode_token for an access token, remembering the ones already verified: a
    client sends the same token with every request, and the signature check and JSON
    parsing were a tenth of a booking's CPU. Only valid tokens are kept (keyed by token
    and secret); expiry is checked again on every use."""
    claims = _verified_access_token(token, secret)
    if claims.exp <= (now or datetime.now(UTC)):
        raise InvalidToken("Token has expired")
    return claims


def stream_token(*, secret: str, user_id: int, role: str) -> str:
    """A token for the live streams only (type `stream`: never an access token), valid
    STREAM_TOKEN_LIFETIME; the user is checked again whenever a stream opens with it."""
    token, _ = encode_token(
        secret=secret, user_id=user_id, role=role, token_type="stream",
        lifetime=STREAM_TOKEN_LIFETIME,
    )  # fmt: skip
    return token


def token_digest(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()
