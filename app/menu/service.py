from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.menu.exceptions import MenuItemNotFound, MenuItemsUnavailable, MenuNameTaken
from app.menu.models import MenuItem
from app.menu.schemas import MenuItemCreate, MenuItemUpdate
from app.orders.models import OrderItem


async def list_items(
    session: AsyncSession, *, category: str | None, include_unavailable: bool = False
) -> Sequence[MenuItem]:
    query = select(MenuItem)
    if not include_unavailable:
        query = query.where(MenuItem.is_available.is_(True))
    if category:
        query = query.where(MenuItem.category == category.lower())
    return (await session.scalars(query.order_by(MenuItem.position, MenuItem.id))).all()


async def get_item(session: AsyncSession, item_id: int) -> MenuItem:
    item = await session.get(MenuItem, item_id)
    if item is None:
        raise MenuItemNotFound(f"Menu item {item_id} not found")
    return item


async def _ensure_name_free(session: AsyncSession, name: str, except_id: int | None = None) -> None:
    query = select(MenuItem.id).where(MenuItem.name == name)
    if except_id is not None:
        query = query.where(MenuItem.id != except_id)
    if await session.scalar(query) is not None:
        raise MenuNameTaken(f"A menu item named {name!r} already exists")


async def create_item(session: AsyncSession, data: MenuItemCreate) -> MenuItem:
    await _ensure_name_free(session, data.name)
    item = MenuItem(**{**data.model_dump(), "category": data.category.lower()})
    session.add(item)
    await session.flush()
    return item


async def update_item(session: AsyncSession, item_id: int, data: MenuItemUpdate) -> MenuItem:
    item = await get_item(session, item_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes and changes["name"] != item.name:
        await _ensure_name_free(session, changes["name"], except_id=item.id)
    if "category" in changes:
        changes["category"] = changes["category"].lower()
    for key, value in changes.items():
        setattr(item, key, value)
    await session.flush()
    return item


async def delete_item(session: AsyncSession, item_id: int) -> MenuItem | None:
    """Delete the item, or retire it (unavailable, kept for history) if it was ever ordered.
    Returns the retired item, or None when it was deleted."""
    item = await get_item(session, item_id)
    if await session.scalar(select(exists().where(OrderItem.menu_item_id == item.id))):
        item.is_available = False
        await session.flush()
        return item
    await session.delete(item)
    await session.flush()
    return None


async def orderable(session: AsyncSession, item_ids: Iterable[int]) -> dict[int, MenuItem]:
    """The available menu items with these ids; a 422 naming any that are not."""
    wanted = set(item_ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(MenuItem).where(MenuItem.id.in_(wanted)))
    found = {m.id: m for m in rows}
    unknown = sorted(wanted - set(found))
    unavailable = sorted(m.name for m in found.values() if not m.is_available)
    if unknown or unavailable:
        parts = []
        if unknown:
            parts.append(f"unknown menu item ids {unknown}")
        if unavailable:
            parts.append(f"not available: {', '.join(unavailable)}")
        raise MenuItemsUnavailable("; ".join(parts), unknown=unknown, unavailable=unavailable)
    return found
