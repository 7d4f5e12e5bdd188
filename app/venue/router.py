from __future__ import annotations

from fastapi import APIRouter

from app.deps import AdminUser, SessionDep
from app.errors import Forbidden, Unauthorized, responses
from app.venue import service
from app.venue.schemas import RestaurantSettingsOut, RestaurantSettingsUpdate

router = APIRouter(prefix="/restaurant", tags=["restaurant"])


@router.get(
    "",
    response_model=RestaurantSettingsOut,
    summary="The restaurant's settings: time zone, opening hours, booking rules",
    name="get",
)
async def get_settings(session: SessionDep) -> RestaurantSettingsOut:
    return RestaurantSettingsOut.model_validate(await service.get_settings_row(session))


@router.put(
    "",
    response_model=RestaurantSettingsOut,
    summary="Change the restaurant's settings (admin); omitted fields are kept",
    responses=responses(Unauthorized, Forbidden),
    name="update",
)
async def update_settings(
    data: RestaurantSettingsUpdate, _admin: AdminUser, session: SessionDep
) -> RestaurantSettingsOut:
    return RestaurantSettingsOut.model_validate(await service.update_settings(session, data))
