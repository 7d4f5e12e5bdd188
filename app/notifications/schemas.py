from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.notifications.models import MessageKind, MessageStatus


class OutboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: MessageKind
    booking_id: int | None
    recipient: str
    subject: str | None = Field(
        description="Empty until the message is sent: confirmations and reminders are "
        "written from the booking as it stands then"
    )
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class OutboxPage(BaseModel):
    items: list[OutboxMessageOut]
    total: int
    limit: int
    offset: int
