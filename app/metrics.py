"""Prometheus metrics (prometheus-client): what an operator watches.

Counters and histograms live in each process; GET /metrics also reads, when it is
scraped, what only the database knows (the outbox's depth and oldest message, the
newest dispatcher heartbeat) and the process's connection pool. With several worker
processes, set PROMETHEUS_MULTIPROC_DIR (an empty directory, the same for every
process) and /metrics adds up what every process counted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select

from app.db.engine import Database

if _shared_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # each process writes there
    os.makedirs(_shared_dir, exist_ok=True)

REQUESTS = Counter(
    "restaurant_http_requests", "Requests answered, by route template and status",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "restaurant_http_request_seconds", "Time to answer a request, by route template",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0),
)  # fmt: skip
BOOKINGS = Counter("restaurant_bookings", "Bookings made, changed and cancelled", ["event"])
FAILED_LOGINS = Counter("restaurant_failed_logins", "Logins refused for a wrong e-mail or password")
RATE_LIMIT_FALLBACKS = Counter(
    "restaurant_rate_limit_fallback_hits",
    "Requests whose rate limit was counted in process memory because the shared "
    "storage (Redis) was unreachable",
)
RATE_LIMIT_AWAY = Gauge(
    "restaurant_rate_limit_storage_away",
    "1 while the shared rate-limit storage (Redis) is unreachable and limits are counted "
    "in process memory; 0 otherwise (also when limits are configured per process)",
    multiprocess_mode="livemax",
)
UNMATCHED = "(unmatched)"  # the route label of a request no route took (a 404)
# The labelled children per (method, route, status), looked up once: every request
# counts itself, so the label work is done once per kind of request, not per request.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(scope: Any, status: int, seconds: float) -> None:
    route = getattr(scope.get("route"), "path_format", None) or UNMATCHED
    method = scope.get("method", "")
    # Clients choose methods: an unknown one is "OTHER", so the label set stays bounded.
    key = (method if method in KNOWN_METHODS else "OTHER", route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(key[0], route, str(status)),
            LATENCY.labels(key[0], route),
        )
    children[0].inc()
    children[1].observe(seconds)


class _Scraped(Collector):
    """What is read when /metrics is scraped."""

    def __init__(self, values: dict[str, tuple[str, float]]) -> None:
        self.values = values

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, value) in self.values.items():
            yield GaugeMetricFamily(name, help_text, value=value)


async def _database_values(database: Database, now: datetime) -> dict[str, tuple[str, float]]:
    from app.notifications.models import TO_SEND, OutboxMessage, WorkerHeartbeat

    async with database.engine.connect() as conn:
        depth, oldest = (
            await conn.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(TO_SEND)
            )
        ).one()
        beat = await conn.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    values = {
        "restaurant_outbox_depth": ("E-mails waiting to be sent", float(depth or 0)),
        "restaurant_outbox_oldest_seconds": (
            "Age of the oldest e-mail still to send (0 when none waits)",
            (now - oldest).total_seconds() if oldest else 0.0,
        ),
    }
    if beat is not None:
        values["restaurant_email_heartbeat_age_seconds"] = (
            "Seconds since an e-mail dispatcher last showed it was working",
            (now - beat).total_seconds(),
        )
    return values


async def render(database: Database, now: datetime) -> bytes:
    """The Prometheus text exposition of everything above."""
    scraped: dict[str, tuple[str, float]] = {}
    pool = database.engine.pool
    checked_out = getattr(pool, "checkedout", None)
    if callable(checked_out):
        scraped["restaurant_db_connections_in_use"] = (
            "Pooled database connections in use in this process",
            float(checked_out()),
        )
    try:
        scraped |= await _database_values(database, now)
    except Exception:  # the database away: the rest is still worth reading
        scraped["restaurant_db_up"] = ("1 when the database answered this scrape", 0.0)
    else:
        scraped["restaurant_db_up"] = ("1 when the database answered this scrape", 1.0)
    extra = CollectorRegistry()
    extra.register(_Scraped(scraped))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
        return generate_latest(counted) + generate_latest(extra)
    return generate_latest(REGISTRY) + generate_latest(extra)
