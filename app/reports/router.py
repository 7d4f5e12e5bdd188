from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import AdminUser, Now, SessionDep
from app.errors import Forbidden, InvalidInput, Unauthorized, responses
from app.fields import QueryDate
from app.reports import service
from app.reports.schemas import DayReport

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get(
    "/day",
    response_model=DayReport,
    summary="A day's figures (admin): covers booked and seated, no-shows, cancellations, "
    "orders closed and revenue",
    description="Counted from the database when asked. `date` is the restaurant's local "
    "day (default: today there).",
    responses=responses(Unauthorized, Forbidden, InvalidInput),
    name="day",
)
async def day_report(
    _admin: AdminUser,
    session: SessionDep,
    now: Now,
    on: Annotated[
        QueryDate | None,
        Query(alias="date", description="YYYY-MM-DD, the restaurant's local day; default today"),
    ] = None,
) -> DayReport:
    return await service.day(session, on, now=now)
