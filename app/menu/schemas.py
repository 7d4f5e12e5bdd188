from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Flag, Number
from app.money import Price


class MenuItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=500)
    price: Price
    category: str = Field(min_length=1, max_length=40, examples=["starters", "mains"])
    is_available: Flag = True
    position: Number = Field(default=0, ge=0, le=100_000)


class MenuItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=500)
    price: Price | None = None
    category: str | None = Field(default=None, min_length=1, max_length=40)
    is_available: Flag | None = None
    position: Number | None = Field(default=None, ge=0, le=100_000)


class MenuItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    price: Price
    category: str
    is_available: bool
    position: int
