"""Field types for what clients send, strict where the wire allows: a JSON body's numbers
and booleans must be JSON numbers and booleans (not "1", true for 1, or "yes"), and a date
or instant in a query string must be written as one (not a number of seconds)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, StrictInt, WithJsonSchema

__all__ = ["Flag", "LocalTime", "Number", "QueryDate", "QueryInstant", "decimal_input"]

Number = StrictInt
Flag = StrictBool

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _written_as(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: Any) -> Any:
        # A number is never a date or a time here (pydantic would read 68400 as 19:00).
        if isinstance(value, int | float) or (
            isinstance(value, str) and not pattern.fullmatch(value)
        ):
            raise ValueError(f"write {what}")
        return value

    return BeforeValidator(check)


# A time of day at the restaurant, as HH:MM (seconds allowed), never with an offset.
_LOCAL_TIME = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$"
LocalTime = Annotated[
    time,
    _written_as(
        re.compile(_LOCAL_TIME[1:-1]),
        "the restaurant's local time as HH:MM, without an offset (e.g. 19:00)",
    ),
    WithJsonSchema({"type": "string", "pattern": _LOCAL_TIME, "examples": ["19:00"]}),
]

QueryDate = Annotated[date, _written_as(_ISO_DATE, "a date as YYYY-MM-DD")]
QueryInstant = Annotated[
    datetime, _written_as(_ISO_INSTANT, "an instant as YYYY-MM-DDTHH:MM with its offset")
]

_DECIMAL = r"^-?\d+(\.\d+)?$"


def _decimal_text(value: Any) -> Any:
    if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(_DECIMAL, value)):
        raise ValueError('write an amount as a number or a decimal string such as "12.50"')
    return value


def decimal_input(**number: float) -> tuple[BeforeValidator, WithJsonSchema]:
    """For an Annotated Decimal: accepts a JSON number or a decimal string (refusing
    booleans and other text), and documents both, the number with `number`'s bounds."""
    return BeforeValidator(_decimal_text), WithJsonSchema(
        {"anyOf": [{"type": "number", **number}, {"type": "string", "pattern": _DECIMAL}]}
    )
