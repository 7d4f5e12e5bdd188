from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.auth import passwords
from app.auth.models import Role
from app.auth.passwords import MIN_PASSWORD_CHARS
from app.fields import Flag


def _check_password(value: str) -> str:
    reason = passwords.problem(value)
    if reason:
        raise ValueError(reason)
    return value


Password = Annotated[str, Field(min_length=MIN_PASSWORD_CHARS), AfterValidator(_check_password)]
Email = Annotated[EmailStr, AfterValidator(lambda v: v.lower()), Field(max_length=320)]
Name = Annotated[str, Field(min_length=1, max_length=120)]


Phone = Annotated[
    str,
    Field(
        max_length=32,
        description="Optional; with +country code, or as dialled in the restaurant's region "
        "(PHONE_REGION). Stored in E.164; an empty string removes it.",
    ),
]


class UserCreate(BaseModel):
    email: Email
    password: Password
    name: Name
    phone: Phone | None = None

    @model_validator(mode="after")
    def _not_the_email(self) -> UserCreate:
        reason = passwords.problem(self.password, email=self.email)
        if reason:
            raise ValueError(reason)
        return self


class Registered(BaseModel):
    """The same answer whether the address was free or already had an account."""

    email: str
    detail: str = (
        "If this address had no account, one is ready: sign in with it and your password. "
        "Either way we have sent an e-mail to it."
    )


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
    phone: str | None
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
    phone: Phone | None = None
    password: Password | None = None
    current_password: str | None = Field(default=None, max_length=1024)


class UserAdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: Flag | None = None
    name: Name | None = None


class PasswordResetRequest(BaseModel):
    email: Email


class ResetRequested(BaseModel):
    """The same answer whether the address has an account or not."""

    email: str
    detail: str = (
        "If this address belongs to an account, we have sent it a link to choose a new "
        "password. The link works once, for a limited time."
    )


class PasswordResetConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=2048, description="From the e-mailed link")
    password: Password
