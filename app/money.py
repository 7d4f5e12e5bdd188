"""Money: Decimal in Python, Numeric(10, 2) in the database, "12.50" on the wire."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer
from sqlalchemy import Numeric

from app.fields import decimal_input

CENT = Decimal("0.01")
MoneyColumn = Numeric(10, 2)

Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Price = Annotated[
    Decimal,
    *decimal_input(exclusiveMinimum=0),
    Field(gt=0, max_digits=10, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
]


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    return int(round_money(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def allocate(total_cents: int, weights: list[int]) -> list[int]:
    """Split `total_cents` in proportion to `weights`, exactly: each part gets its floor,
    and the leftover cents go one each to the first parts. Equal weights give parts that
    differ by at most one cent (100.00 in 3: 33.34, 33.33, 33.33)."""
    if not weights:
        raise ValueError("at least one part is needed")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    parts = [total_cents * w // weight_sum for w in weights]
    leftover = total_cents - sum(parts)
    for i in range(leftover):
        parts[i % len(parts)] += 1
    return parts
