"""Rate limits with the `limits` library: memory by default, Redis to share across workers."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from app.config import Settings
from app.errors import TooManyRequests


def _storage(url: str, key_prefix: str) -> Storage:
    scheme_url = url if url.startswith("async+") else f"async+{url}"
    options: dict[str, str] = {}
    if "redis" in scheme_url.split("://", 1)[0]:
        options = {"implementation": "redispy", "key_prefix": key_prefix}
    storage = storage_from_string(scheme_url, **options)
    assert isinstance(storage, Storage)
    return storage


class RateLimiter:
    """Named limits (login, booking, availability) checked against one storage."""

    def __init__(self, settings: Settings) -> None:
        self.storage = _storage(settings.rate_limit_storage_url, settings.rate_limit_key_prefix)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.limits: dict[str, RateLimitItem] = {
            "login": parse(settings.rate_limit_login),
            "booking": parse(settings.rate_limit_booking),
            "availability": parse(settings.rate_limit_availability),
            "register": parse(settings.rate_limit_register),
        }

    async def hit(self, name: str, *identifiers: str) -> None:
        """Count one request; raise 429 with Retry-After when the limit is spent."""
        item = self.limits[name]
        if await self.strategy.hit(item, name, *identifiers):
            return
        stats = await self.strategy.get_window_stats(item, name, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Rate limit of {item} exceeded; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_limit(request: Request, limiter: LimiterDep) -> None:
    """Per client address; the per-e-mail limit is checked by the route that has the e-mail."""
    await limiter.hit("login", "addr", client_address(request))


async def register_limit(request: Request, limiter: LimiterDep) -> None:
    await limiter.hit("register", client_address(request))
