from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.auth.models import Role
from app.auth.security import MAX_PASSWORD_BYTES

MIN_PASSWORD_CHARS = 8


def _check_password(value: str) -> str:
    if len(value) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must be at least {MIN_PASSWORD_CHARS} characters long")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 "
            "(bcrypt ignores anything longer)"
        )
    return value


Password = Annotated[str, AfterValidator(_check_password)]
Email = Annotated[EmailStr, AfterValidator(lambda v: v.lower()), Field(max_length=320)]
Name = Annotated[str, Field(min_length=1, max_length=120)]


class UserCreate(BaseModel):
    email: Email
    password: Password
    name: Name


class LoginJSON(BaseModel):
    email: Email
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    password: Password | None = None
    current_password: str | None = Field(default=None, max_length=1024)


class UserAdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None
    name: Name | None = None
