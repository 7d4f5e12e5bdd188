from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from app.deps import MAX_ID, IdPath, Now, SessionDep, StaffUser
from app.errors import Forbidden, Unauthorized, responses
from app.floor.exceptions import TableBusy, TableNotFound
from app.menu.exceptions import MenuItemsUnavailable
from app.orders import bills, service
from app.orders.exceptions import OrderNotFound, OrderNotOpen, UnservedTickets
from app.orders.models import OrderStatus
from app.orders.schemas import Bill, OrderClose, OrderCreate, OrderOut, OrderPage, OrderUpdate

router = APIRouter(prefix="/api/orders", tags=["orders"])
AUTH = responses(Unauthorized, Forbidden)
NOT_FOUND = {**AUTH, **responses(OrderNotFound)}


@router.get(
    "",
    response_model=OrderPage,
    responses=AUTH,
    summary="Orders, newest first (staff); filter by status or table",
    name="list",
)
async def list_orders(
    _staff: StaffUser,
    session: SessionDep,
    status: OrderStatus | None = None,
    table_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> OrderPage:
    orders, total = await service.list_orders(
        session, status=status, table_id=table_id, limit=limit, offset=offset
    )
    items = await service.to_out_many(session, orders)
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Open an order (staff): priced by the server, sent to the kitchen, "
    "seated at `table_id` if given",
    responses={**AUTH, **responses(TableNotFound, TableBusy, MenuItemsUnavailable)},
    name="create",
)
async def create_order(
    data: OrderCreate, _staff: StaffUser, session: SessionDep, now: Now
) -> OrderOut:
    order = await service.create_order(session, data, now=now)
    return await service.to_out(session, order)


@router.get(
    "/{order_id:int}",
    response_model=OrderOut,
    summary="One order (staff)",
    responses=NOT_FOUND,
    name="get",
)
async def get_order(order_id: IdPath, _staff: StaffUser, session: SessionDep) -> OrderOut:
    return await service.to_out(session, await service.get_order(session, order_id))


@router.put(
    "/{order_id:int}",
    response_model=OrderOut,
    summary="Change an open order (staff): items replace the list; new items go to the kitchen",
    responses={**NOT_FOUND, **responses(OrderNotOpen, MenuItemsUnavailable)},
    name="update",
)
async def update_order(
    order_id: IdPath, data: OrderUpdate, _staff: StaffUser, session: SessionDep, now: Now
) -> OrderOut:
    order = await service.update_order(session, order_id, data, now=now)
    return await service.to_out(session, order)


@router.delete(
    "/{order_id:int}",
    response_model=OrderOut,
    summary="Cancel an open order (staff): off its table, its unserved tickets cancelled",
    responses={**NOT_FOUND, **responses(OrderNotOpen)},
    name="cancel",
)
async def cancel_order(
    order_id: IdPath, _staff: StaffUser, session: SessionDep, now: Now
) -> OrderOut:
    order = await service.cancel_order(session, order_id, now=now)
    return await service.to_out(session, order)


@router.post(
    "/{order_id:int}/close",
    response_model=OrderOut,
    summary="Close a paid order (staff); the table stays occupied until released. Its "
    "unserved kitchen tickets refuse the close, unless `cancel_tickets` cancels them",
    responses={**NOT_FOUND, **responses(OrderNotOpen, UnservedTickets)},
    name="close",
)
async def close_order(
    order_id: IdPath,
    _staff: StaffUser,
    session: SessionDep,
    now: Now,
    data: Annotated[OrderClose | None, Body()] = None,
) -> OrderOut:
    order = await service.close_order(
        session,
        order_id,
        payment_note=data.payment_note if data else None,
        cancel_tickets=data.cancel_tickets if data else False,
        now=now,
    )
    return await service.to_out(session, order)


@router.get(
    "/{order_id:int}/bill",
    response_model=Bill,
    responses=NOT_FOUND,
    summary="The bill: lines, subtotal, service charge, tax and total (staff)",
    name="bill",
)
async def get_bill(order_id: IdPath, _staff: StaffUser, session: SessionDep) -> Bill:
    bill, _items = await bills.bill_for(session, await service.get_order(session, order_id))
    return bill
