"""Why a slot cannot be booked, as a code: its own module, so that the schemas of both
the venue and the bookings can name it."""

from __future__ import annotations

import enum


class ReasonCode(enum.StrEnum):
    """Why a slot cannot be booked (GET /bookings/availability, and the 422 and 409
    bodies of the booking routes)."""

    closed = "closed"  # a closed day, outside the hours, or past the last seating
    past = "past"
    lead_time = "lead_time"  # sooner than the minimum notice for online bookings
    beyond_horizon = "beyond_horizon"
    party_too_large = "party_too_large"
    paced_out = "paced_out"  # the slot's pacing limit of covers is reached
    no_table = "no_table"  # no table that fits the party is free
    not_a_slot = "not_a_slot"  # off the slot grid, or a wall time the clocks skip
