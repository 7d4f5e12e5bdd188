from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.notifications.models import MessageStatus, OutboxMessage


class OutboxMessageNotFound(NotFound):
    default_message = "Outbox message not found"


class NotRetryable(Conflict):
    default_message = "Only failed messages can be retried"


async def list_messages(
    session: AsyncSession, *, status: MessageStatus | None, limit: int, offset: int
) -> tuple[list[OutboxMessage], int]:
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def retry(session: AsyncSession, message_id: int, *, now: datetime) -> OutboxMessage:
    row = await session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise OutboxMessageNotFound(f"Outbox message {message_id} not found")
    if row.status != MessageStatus.failed:
        raise NotRetryable(f"Message {row.id} is {row.status.value}; only failed ones are retried")
    row.status = MessageStatus.pending
    row.attempts = 0
    row.next_attempt_at = now
    await session.flush()
    return row
