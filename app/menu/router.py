from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import AdminUser, IdPath, SessionDep, StaffUser
from app.errors import Forbidden, Unauthorized, responses
from app.menu import service
from app.menu.exceptions import MenuItemNotFound, MenuNameTaken
from app.menu.schemas import MenuItemCreate, MenuItemOut, MenuItemUpdate

router = APIRouter(prefix="/api/menu", tags=["menu"])
ADMIN = responses(Unauthorized, Forbidden)


@router.get(
    "",
    response_model=list[MenuItemOut],
    summary="The menu: available items in position order, optionally one category",
    name="list",
)
async def list_menu(
    session: SessionDep,
    category: Annotated[str | None, Query(max_length=40, examples=["mains"])] = None,
) -> list[MenuItemOut]:
    items = await service.list_items(session, category=category)
    return [MenuItemOut.model_validate(i) for i in items]


@router.get(
    "/all",
    response_model=list[MenuItemOut],
    summary="The whole menu for staff: unavailable items too, in position order",
    responses=ADMIN,
    name="list_all",
)
async def list_whole_menu(
    _staff: StaffUser,
    session: SessionDep,
    category: Annotated[str | None, Query(max_length=40, examples=["mains"])] = None,
) -> list[MenuItemOut]:
    """What the manager's console edits: an item taken off (unavailable) stays listed, so
    it can be put back."""
    items = await service.list_items(session, category=category, include_unavailable=True)
    return [MenuItemOut.model_validate(i) for i in items]


@router.get(
    "/{item_id:int}",
    response_model=MenuItemOut,
    summary="One menu item",
    responses=responses(MenuItemNotFound),
    name="get",
)
async def get_menu_item(item_id: IdPath, session: SessionDep) -> MenuItemOut:
    return MenuItemOut.model_validate(await service.get_item(session, item_id))


@router.post(
    "",
    response_model=MenuItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a menu item (admin)",
    responses={**ADMIN, **responses(MenuNameTaken)},
    name="create",
)
async def create_menu_item(
    data: MenuItemCreate, _admin: AdminUser, session: SessionDep
) -> MenuItemOut:
    return MenuItemOut.model_validate(await service.create_item(session, data))


@router.put(
    "/{item_id:int}",
    response_model=MenuItemOut,
    summary="Change a menu item (admin); open bills keep the price they were given",
    responses={**ADMIN, **responses(MenuItemNotFound, MenuNameTaken)},
    name="update",
)
async def update_menu_item(
    item_id: IdPath, data: MenuItemUpdate, _admin: AdminUser, session: SessionDep
) -> MenuItemOut:
    return MenuItemOut.model_validate(await service.update_item(session, item_id, data))


@router.delete(
    "/{item_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a menu item (admin): 204 when deleted; 200 with the item when it was "
    "ordered before and so is retired (unavailable, kept for history)",
    responses={
        **ADMIN,
        **responses(MenuItemNotFound),
        200: {"model": MenuItemOut, "description": "Retired, not deleted"},
    },
    name="delete",
)
async def delete_menu_item(item_id: IdPath, _admin: AdminUser, session: SessionDep) -> Response:
    retired = await service.delete_item(session, item_id)
    if retired is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    body = MenuItemOut.model_validate(retired).model_dump_json()
    return Response(body, status_code=status.HTTP_200_OK, media_type="application/json")
