from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.bookings.exceptions import BookingsStranded
from app.bookings.schemas import StrandedError
from app.deps import AdminUser, Now, SessionDep, SettingsDep
from app.errors import Forbidden, Unauthorized, responses
from app.venue import changes, service
from app.venue.schemas import (
    RestaurantSettingsChanged,
    RestaurantSettingsOut,
    RestaurantSettingsUpdate,
)

router = APIRouter(prefix="/restaurant", tags=["restaurant"])

CancelAffected = Annotated[
    bool,
    Query(
        description="When the change would strand confirmed bookings (a closed date, a "
        "shorter or removed service, a slot grid or time zone that moves booked times): "
        "cancel them, e-mailing each guest why, instead of refusing with 409. A seated "
        "party is never cancelled."
    ),
]
STRANDED: dict[int | str, dict[str, Any]] = {
    409: {"model": StrandedError, "description": BookingsStranded.default_message}
}


@router.get(
    "",
    response_model=RestaurantSettingsOut,
    summary="The restaurant's settings: time zone, opening hours, booking rules, contact",
    description="Public. Besides the rules an admin sets, what a guest page shows: how "
    "to reach the restaurant (null when not set), its colour, and what to tell a party "
    "larger than `max_party_size`.",
    name="get",
)
async def get_settings(session: SessionDep, settings: SettingsDep) -> RestaurantSettingsOut:
    return await service.describe(session, settings)


@router.put(
    "",
    response_model=RestaurantSettingsChanged,
    summary="Change the restaurant's settings (admin); omitted fields are kept, "
    "opening_hours is the whole week",
    description="A change that would strand confirmed bookings is refused with 409 "
    "listing them (`affected`), unless `cancel_affected=true`.",
    responses={**responses(Unauthorized, Forbidden), **STRANDED},
    name="update",
)
async def update_settings(
    data: RestaurantSettingsUpdate,
    _admin: AdminUser,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    cancel_affected: CancelAffected = False,
) -> RestaurantSettingsChanged:
    return await changes.change_settings(
        session, data, merge_hours=False, cancel_affected=cancel_affected, now=now,
        settings=settings,
    )  # fmt: skip


@router.patch(
    "",
    response_model=RestaurantSettingsChanged,
    summary="Change some settings (admin); opening_hours changes only the weekdays named",
    description="As PUT, except that `opening_hours` changes only the weekdays it names: "
    'a weekday left out keeps its hours, one given an empty list is closed (`{"friday": '
    '[{"opens": "18:00", "closes": "23:00"}]}` changes Fridays only). A change that '
    "would strand confirmed bookings is refused with 409 listing them (`affected`), "
    "unless `cancel_affected=true`.",
    responses={**responses(Unauthorized, Forbidden), **STRANDED},
    name="patch",
)
async def patch_settings(
    data: RestaurantSettingsUpdate,
    _admin: AdminUser,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    cancel_affected: CancelAffected = False,
) -> RestaurantSettingsChanged:
    return await changes.change_settings(
        session, data, merge_hours=True, cancel_affected=cancel_affected, now=now,
        settings=settings,
    )  # fmt: skip
