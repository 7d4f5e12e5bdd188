"""The webhook dispatcher: fan events out into deliveries, claim the due ones, POST them
signed, record each attempt.

Like the e-mail outbox's (app/notifications/dispatcher.py): a claim is a short
transaction that marks rows `sending` with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED,
so two dispatchers never claim one row; SQLite: under the write lock), and sending
happens outside any transaction. A delivery is claimed only when no earlier event of the
same booking is being sent or backing off for the same endpoint; a batch is claimed in
event order and goes to each endpoint one delivery at a time in that order (endpoints
side by side), and once one of a booking's deliveries fails, its later ones in the batch
are handed back unsent. So each endpoint gets a booking's events in order whatever
fails, and without failures every event in the order they happened (a cancellation
before the waitlist offer it caused, before the offer's booking). A claim's
lease covers the deliveries queued before it for its endpoint. Failures (no answer within
WEBHOOK_TIMEOUT_SECONDS, a non-2xx answer, a refused connection) retry with doubling
backoff; after WEBHOOK_MAX_ATTEMPTS the delivery stays `failed` until an admin replays it.
Delivery is at least once: receivers drop a webhook-id they have already handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Select, and_, exists, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.background import pause
from app.config import Settings
from app.db.base import utcnow
from app.db.engine import Database
from app.webhooks import signing
from app.webhooks.fanout import fan_out
from app.webhooks.models import (
    TO_SEND,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger("app.webhooks")

MAX_BACKOFF = timedelta(hours=6)
_EARLIER = aliased(WebhookDelivery, name="earlier")


def due_deliveries(now: datetime, limit: int) -> Select[WebhookDelivery, str, str]:
    """The oldest deliveries (in event order) to send now to enabled endpoints, with the
    endpoint's URL and secret, locked for this claim: those waiting for their time and
    those whose sender's lease ran out, each only if no earlier event of its booking is
    being sent or backing off for its endpoint (an earlier one due now is claimed before
    it, in the same batch)."""
    waiting = exists().where(
        _EARLIER.endpoint_id == WebhookDelivery.endpoint_id,
        _EARLIER.booking_id == WebhookDelivery.booking_id,
        _EARLIER.event_id < WebhookDelivery.event_id,
        text(
            "(earlier.status = 'sending' AND earlier.lease_until >= :now) OR "
            "(earlier.status = 'pending' AND earlier.next_attempt_at > :now)"
        ).bindparams(now=now),
    )
    return (
        select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret)
        .join(
            WebhookEndpoint,
            and_(WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.enabled),
        )
        .where(
            TO_SEND,
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.status == DeliveryStatus.pending)
            | (WebhookDelivery.lease_until < now),
            ~waiting,
        )
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )


async def _in_order(session: AsyncSession, rows: Sequence[Any]) -> Sequence[Any]:
    """The candidates that may go now: none whose booking has an earlier delivery for the
    endpoint still to send outside this batch (another dispatcher's, or one left out by
    the batch's size), so a booking's events never overtake each other."""
    bookings = {row[0].booking_id for row in rows if row[0].booking_id is not None}
    if not bookings:
        return rows
    ours = [row[0].id for row in rows]
    found = await session.execute(
        select(
            WebhookDelivery.endpoint_id,
            WebhookDelivery.booking_id,
            func.min(WebhookDelivery.event_id),
        )
        .where(
            WebhookDelivery.booking_id.in_(bookings),
            WebhookDelivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending]),
            WebhookDelivery.id.not_in(ours),
        )
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.booking_id)
    )
    first_elsewhere = {(endpoint, booking): event for endpoint, booking, event in found}
    return [
        row for row in rows
        if row[0].event_id
        < first_elsewhere.get((row[0].endpoint_id, row[0].booking_id), row[0].event_id + 1)
    ]  # fmt: skip


@dataclass(frozen=True)
class Claimed:
    id: int
    endpoint_id: int
    booking_id: int | None
    attempts: int
    url: str
    secret: str
    message_id: str
    body: str


@dataclass(frozen=True)
class Outcome:
    item: Claimed
    at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None  # why it failed; None: delivered


class WebhookDispatcher:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.batch_size = batch_size
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def lease(self, queued: int) -> timedelta:
        """How long a claim lasts for a delivery with `queued` others of its endpoint
        before it in this batch (each may take the whole timeout)."""
        return (queued + 1) * timedelta(seconds=self.settings.webhook_timeout_seconds + 5)

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.settings.webhook_backoff_seconds * 2 ** max(0, attempts - 1)
        return min(timedelta(seconds=seconds), MAX_BACKOFF)

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,  # a redirect is an answer to fix, not to follow
                headers={"user-agent": "restaurant-webhooks/1"},
                transport=self._transport,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction (SQLite: queued with this process's write requests)."""
        async with contextlib.AsyncExitStack() as stack:
            if self.database.write_queue is not None:
                await stack.enter_async_context(self.database.write_queue)
            session = await stack.enter_async_context(self.database.writer())
            async with session.begin():
                yield session

    async def fan_out(self) -> int:
        async with self._writing() as session:
            return await fan_out(session, now=self.clock())

    async def claim(self) -> list[Claimed]:
        now = self.clock()
        async with self._writing() as session:
            rows = (await session.execute(due_deliveries(now, self.batch_size))).all()
            rows = await _in_order(session, rows)
            claimed = []
            queued: Counter[int] = Counter()  # deliveries before it, per endpoint
            for row, url, secret in rows:
                row.status = DeliveryStatus.sending
                row.lease_until = now + self.lease(queued[row.endpoint_id])
                queued[row.endpoint_id] += 1
                row.attempts += 1
                claimed.append(Claimed(row.id, row.endpoint_id, row.booking_id, row.attempts,
                                       url, secret, row.message_id, row.body))  # fmt: skip
        return claimed

    async def deliver(self, item: Claimed) -> Outcome:
        """POST one claimed delivery, signed now; the outcome is recorded by the caller."""
        at = self.clock()
        headers = signing.headers(item.secret, item.message_id, item.body, at)
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                request = self.client().build_request(
                    "POST", item.url, content=item.body.encode(), headers=headers
                )
                response = await self.client().send(request, stream=True)
                try:
                    code = response.status_code
                    if not 200 <= code < 300:
                        start = b""
                        async for chunk in response.aiter_bytes():
                            start += chunk
                            if len(start) >= 200:
                                break
                        said = start[:200].decode(errors="replace").strip()
                        error = f"HTTP {code}" + (f": {said}" if said else "")
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration = round((time.perf_counter() - started) * 1000)
        if error is not None:
            logger.warning("webhook delivery %s failed (attempt %s): %s", item.id,
                           item.attempts, error)  # fmt: skip
        return Outcome(item, at, duration, code, error)

    async def record(self, outcome: Outcome) -> None:
        """The attempt, and where the delivery now stands, while it is still this
        claim's (nobody took it over after the lease ran out)."""
        item, now = outcome.item, self.clock()
        values: dict[str, object] = {"lease_until": None}
        if outcome.error is None:
            values |= {"status": DeliveryStatus.delivered, "delivered_at": now,
                       "last_error": None}  # fmt: skip
        elif item.attempts >= self.settings.webhook_max_attempts:
            values |= {"status": DeliveryStatus.failed, "last_error": outcome.error[:1000]}
        else:
            values |= {"status": DeliveryStatus.pending, "last_error": outcome.error[:1000],
                       "next_attempt_at": now + self.backoff(item.attempts)}  # fmt: skip
        async with self._writing() as session:
            result = await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == item.id,
                    WebhookDelivery.status == DeliveryStatus.sending,
                    WebhookDelivery.attempts == item.attempts,
                )
                .values(**values)
            )
            if getattr(result, "rowcount", 0):
                await session.execute(
                    insert(WebhookAttempt).values(
                        delivery_id=item.id,
                        attempted_at=outcome.at,
                        status_code=outcome.status_code,
                        error=None if outcome.error is None else outcome.error[:1000],
                        duration_ms=outcome.duration_ms,
                    )
                )

    async def send(self, items: list[Claimed]) -> int:
        """One endpoint's claimed deliveries, one after the other in the order of their
        events, each outcome recorded as soon as it is known. After a booking's delivery
        fails, its later ones are handed back unsent (they follow it when it succeeds)."""
        failed: set[int] = set()
        attempted = 0
        for item in items:
            if item.booking_id is not None and item.booking_id in failed:
                await self.hand_back(item)
                continue
            outcome = await self.deliver(item)
            attempted += 1
            await self.record(outcome)
            if outcome.error is not None and item.booking_id is not None:
                failed.add(item.booking_id)
        return attempted

    async def hand_back(self, item: Claimed) -> None:
        """A claimed delivery not attempted: pending again, its attempt not counted."""
        async with self._writing() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == item.id,
                    WebhookDelivery.status == DeliveryStatus.sending,
                    WebhookDelivery.attempts == item.attempts,
                )
                .values(status=DeliveryStatus.pending, lease_until=None, attempts=item.attempts - 1)
            )

    async def run_once(self) -> int:
        """Fan out new events, then send what is due: each endpoint's deliveries in
        order, the endpoints side by side. Returns how many deliveries were attempted."""
        await self.fan_out()
        claimed = await self.claim()
        by_endpoint: dict[int, list[Claimed]] = defaultdict(list)
        for item in claimed:
            by_endpoint[item.endpoint_id].append(item)
        sent = await asyncio.gather(*(self.send(items) for items in by_endpoint.values()))
        return sum(sent)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: send what is due, then wait for the next poll."""
        logger.info("webhook dispatcher started")
        try:
            while not stop.is_set():
                try:
                    busy = await self.run_once()
                except Exception:
                    logger.exception("webhook dispatcher round failed")
                    busy = 0
                if not busy:
                    await pause(stop, self.settings.webhook_poll_seconds)
        finally:
            await self.close()
        logger.info("webhook dispatcher stopped")
