from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import AdminUser, Now, SessionDep, StaffUser
from app.errors import Forbidden, Unauthorized, responses
from app.floor import service
from app.floor.exceptions import TableHasBookings, TableNotFound, TableNumberTaken
from app.floor.schemas import TableCreate, TableOut, TableUpdate

router = APIRouter(prefix="/api/tables", tags=["tables"])
AUTH_ERRORS = responses(Unauthorized, Forbidden)


@router.get("", response_model=list[TableOut], summary="All tables (staff)", responses=AUTH_ERRORS)
async def list_tables(_staff: StaffUser, session: SessionDep) -> list[TableOut]:
    return [TableOut.model_validate(t) for t in await service.list_tables(session)]


@router.post(
    "",
    response_model=TableOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a table (admin)",
    responses={**AUTH_ERRORS, **responses(TableNumberTaken)},
)
async def create_table(data: TableCreate, _admin: AdminUser, session: SessionDep) -> TableOut:
    return TableOut.model_validate(await service.create_table(session, data))


@router.get(
    "/{table_id}",
    response_model=TableOut,
    summary="One table (staff)",
    responses={**AUTH_ERRORS, **responses(TableNotFound)},
)
async def get_table(table_id: int, _staff: StaffUser, session: SessionDep) -> TableOut:
    return TableOut.model_validate(await service.get_table(session, table_id))


@router.put(
    "/{table_id}",
    response_model=TableOut,
    summary="Change a table (admin); shrinking below a future booking is refused",
    responses={**AUTH_ERRORS, **responses(TableNotFound, TableHasBookings)},
)
async def update_table(
    table_id: int, data: TableUpdate, _admin: AdminUser, session: SessionDep, now: Now
) -> TableOut:
    return TableOut.model_validate(await service.update_table(session, table_id, data, now=now))


@router.delete(
    "/{table_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a table (admin); refused while it has bookings",
    responses={**AUTH_ERRORS, **responses(TableNotFound, TableHasBookings)},
)
async def delete_table(table_id: int, _admin: AdminUser, session: SessionDep, now: Now) -> Response:
    await service.delete_table(session, table_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
