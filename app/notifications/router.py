from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import MAX_ID, AdminUser, IdPath, Now, SessionDep
from app.errors import Forbidden, Unauthorized, responses
from app.notifications import service
from app.notifications.models import MessageStatus
from app.notifications.schemas import OutboxMessageOut, OutboxPage

router = APIRouter(prefix="/admin/outbox", tags=["admin"])
ADMIN = responses(Unauthorized, Forbidden)


@router.get(
    "",
    response_model=OutboxPage,
    responses=ADMIN,
    summary="E-mails queued, sent and failed, newest first (admin)",
)
async def list_outbox(
    _admin: AdminUser,
    session: SessionDep,
    status: MessageStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> OutboxPage:
    rows, total = await service.list_messages(session, status=status, limit=limit, offset=offset)
    return OutboxPage(
        items=[OutboxMessageOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/{message_id:int}/retry",
    response_model=OutboxMessageOut,
    summary="Send a failed message again (admin)",
    responses={**ADMIN, **responses(service.OutboxMessageNotFound, service.NotRetryable)},
)
async def retry_message(
    message_id: IdPath, _admin: AdminUser, session: SessionDep, now: Now
) -> OutboxMessageOut:
    return OutboxMessageOut.model_validate(await service.retry(session, message_id, now=now))
