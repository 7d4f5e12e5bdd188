"""Periodic clean-up of rows that only matter for a while."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete

from app.auth.models import RefreshToken
from app.background import pause
from app.bookings.models import IdempotencyKey
from app.db.base import utcnow
from app.db.engine import Database
from app.floor.models import FloorEvent
from app.kitchen.models import KitchenEvent
from app.notifications.models import WorkerHeartbeat
from app.webhooks.models import DeliveryStatus, WebhookDelivery

logger = logging.getLogger("app.housekeeping")

EVENTS_KEPT = timedelta(days=2)  # the live screens' events (kitchen, floor)
IDEMPOTENCY_KEYS_KEPT = timedelta(hours=24)
HEARTBEATS_KEPT = timedelta(days=1)
DELIVERIES_KEPT = timedelta(days=30)  # webhook deliveries sent (failed ones stay)


async def purge(database: Database, now: datetime) -> dict[str, int]:
    """Delete the kitchen's and the floor's events older than two days, idempotency keys
    past their 24 hours, expired refresh tokens, the heartbeats of dispatchers gone for
    a day and webhook deliveries delivered over 30 days ago (with their attempts).
    Returns how many rows of each went."""
    statements = {
        "kitchen_events": delete(KitchenEvent).where(KitchenEvent.created_at < now - EVENTS_KEPT),
        "floor_events": delete(FloorEvent).where(FloorEvent.created_at < now - EVENTS_KEPT),
        "idempotency_keys": delete(IdempotencyKey).where(
            IdempotencyKey.created_at < now - IDEMPOTENCY_KEYS_KEPT
        ),
        "refresh_tokens": delete(RefreshToken).where(RefreshToken.expires_at < now),
        "worker_heartbeats": delete(WorkerHeartbeat).where(
            WorkerHeartbeat.beat_at < now - HEARTBEATS_KEPT
        ),
        "webhook_deliveries": delete(WebhookDelivery).where(
            WebhookDelivery.status == DeliveryStatus.delivered,
            WebhookDelivery.delivered_at < now - DELIVERIES_KEPT,
        ),
    }
    counts = {}
    async with database.writer() as session, session.begin():
        for name, statement in statements.items():
            result = await session.execute(statement)
            counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts


async def run(
    database: Database,
    stop: asyncio.Event,
    *,
    every: float = 600,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    while not stop.is_set():
        try:
            counts = await purge(database, clock())
            if any(counts.values()):
                logger.info("purged old rows", extra={"fields": counts})
        except Exception:
            logger.exception("housekeeping round failed")
        await pause(stop, every)
