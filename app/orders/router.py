from __future__ import annotations

from fastapi import APIRouter, status

from app.deps import Now, SessionDep, StaffUser
from app.errors import Forbidden, Unauthorized, responses
from app.floor.exceptions import TableBusy, TableNotFound
from app.orders import service
from app.orders.exceptions import OrderNotFound
from app.orders.schemas import OrderCreate, OrderOut

router = APIRouter(prefix="/api/orders", tags=["orders"])
AUTH = responses(Unauthorized, Forbidden)


@router.post(
    "",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Open an order, seated at `table_id` if given (staff)",
    responses={**AUTH, **responses(TableNotFound, TableBusy)},
)
async def create_order(
    data: OrderCreate, _staff: StaffUser, session: SessionDep, now: Now
) -> OrderOut:
    order = await service.create_order(session, data, now=now)
    return await service.to_out(session, order)


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    summary="One order (staff)",
    responses={**AUTH, **responses(OrderNotFound)},
)
async def get_order(order_id: int, _staff: StaffUser, session: SessionDep) -> OrderOut:
    return await service.to_out(session, await service.get_order(session, order_id))
