from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    customer = "customer"
    staff = "staff"
    admin = "admin"


# Roles that work the floor: they see every booking and may act for guests.
STAFF_ROLES = frozenset({Role.staff, Role.admin})


class User(Base):
    __tablename__ = "users"
    # Tokens name their user by id: SQLite must never give a deleted user's id to a new
    # one (migration 0012); PostgreSQL's sequence never does.
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (schemas normalise it), so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    hashed_password: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=16,
            validate_strings=True,
            create_constraint=True,
            name="role",
        ),
        default=Role.customer,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the hot paths read it: a plain row, no ORM identity."""

    id: int
    email: str
    name: str
    role: Role
    is_active: bool

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class RefreshToken(Base):
    """A refresh token's server-side record; only a hash of its id is stored.

    Tokens rotate: each refresh revokes the one used and issues a new one in the same
    family. Presenting a revoked token revokes the whole family (a stolen token replayed).
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
