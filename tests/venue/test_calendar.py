"""The venue's calendar (app/venue/calendar.py) without a database."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest


def test_slot_grids_kept_by_a_venue_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from decimal import Decimal

    from app.venue import calendar

    monkeypatch.setattr(calendar, "SLOT_CACHE_SIZE", 3)
    venue = calendar.Venue(
        name="Test", zone=ZoneInfo("Europe/London"),
        services={weekday: [(12 * 60, 23 * 60)] for weekday in range(7)}, slot_minutes=15,
        durations=[(2, 90), (None, 120)], lead=timedelta(0), horizon_days=90,
        max_party_size=12, closed_dates=frozenset(), cancel_cutoff=timedelta(0),
        hold=timedelta(minutes=15), service_charge_percent=Decimal(0), tax_percent=Decimal(0),
    )  # fmt: skip
    days = [date(2030, 3, 1) + timedelta(days=n) for n in range(5)]
    grids = [venue.slots(day, 4) for day in days]
    assert len(venue._slot_cache) <= 3
    # Laid out again after being dropped, a grid is the same.
    assert venue.slots(days[0], 4) == grids[0]
    assert grids[0][0].label == "12:00" and grids[0][-1].label == "21:00"
