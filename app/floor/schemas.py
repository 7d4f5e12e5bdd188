from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table_number: int = Field(ge=1, le=10_000)
    capacity: int = Field(ge=1, le=50)
    area: str = Field(default="main", min_length=1, max_length=40)
    bookable: bool = True


class TableUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table_number: int | None = Field(default=None, ge=1, le=10_000)
    capacity: int | None = Field(default=None, ge=1, le=50)
    area: str | None = Field(default=None, min_length=1, max_length=40)
    bookable: bool | None = None


class TableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    table_number: int
    capacity: int
    area: str
    bookable: bool
