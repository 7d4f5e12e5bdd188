"""Prometheus metrics (prometheus-client): what an operator watches."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RATE_LIMIT_FALLBACKS = Counter(
    "restaurant_rate_limit_fallback_hits",
    "Requests whose rate limit was counted in process memory because the shared "
    "storage (Redis) was unreachable",
)
RATE_LIMIT_SHARED = Gauge(
    "restaurant_rate_limit_shared_up",
    "1 while rate limits are counted in the shared storage, 0 while in process memory",
)
