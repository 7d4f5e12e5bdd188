"""Rate limits with the `limits` library: memory by default, Redis to share across workers."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from app import metrics
from app.auth.exceptions import BadCredentials
from app.config import Settings
from app.errors import AppError, TooManyRequests

log = logging.getLogger("app.ratelimit")

# How often a limiter that fell back to memory asks whether shared storage is back.
RETRY_SHARED_SECONDS = 5.0
# A Redis that does not answer within this long is treated as away (the request goes on).
STORAGE_TIMEOUT_SECONDS = 0.5


def _storage(url: str, key_prefix: str) -> Storage:
    scheme_url = url if url.startswith("async+") else f"async+{url}"
    options: dict[str, str | float] = {}
    if "redis" in scheme_url.split("://", 1)[0]:
        options = {
            "implementation": "redispy",
            "key_prefix": key_prefix,
            "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
        }
    storage = storage_from_string(scheme_url, wrap_exceptions=True, **options)
    assert isinstance(storage, Storage)
    return storage


class RateLimiter:
    """Named limits (login, booking, availability, register, ...) checked against one storage:
    memory, or Redis to share them between processes.

    Losing Redis must not take the restaurant offline: while it is away the limits are
    counted in this process's memory (logged once, counted in the metrics), and every
    RETRY_SHARED_SECONDS a request asks whether it is back; once it answers, the limits
    are shared again."""

    def __init__(self, settings: Settings) -> None:
        self.memory = SlidingWindowCounterRateLimiter(MemoryStorage())
        shared = not settings.rate_limit_storage_url.startswith("memory")
        self.shared_storage = (
            _storage(settings.rate_limit_storage_url, settings.rate_limit_key_prefix)
            if shared
            else None
        )
        self.shared = (
            SlidingWindowCounterRateLimiter(self.shared_storage) if self.shared_storage else None
        )
        self.away_since: float | None = None  # when shared storage was last found away
        self._last_try = 0.0
        self.limits: dict[str, RateLimitItem] = {
            "login": parse(settings.rate_limit_login),
            "login_account": parse(settings.rate_limit_login_account),
            "login_email": parse(settings.rate_limit_login_email),
            "booking": parse(settings.rate_limit_booking),
            "availability": parse(settings.rate_limit_availability),
            "register": parse(settings.rate_limit_register),
            "password_reset": parse(settings.rate_limit_password_reset),
            "rejected": parse(settings.rate_limit_rejected),
        }
        self._probe: asyncio.Task[None] | None = None
        metrics.RATE_LIMIT_AWAY.set(0)

    @property
    def storage_status(self) -> str:
        """For readiness: "memory" (configured so), "up" (shared), or "away" (shared
        storage unreachable, limits per process meanwhile)."""
        if self.shared is None:
            return "memory"
        return "away" if self.away_since is not None else "up"

    async def _strategy(self) -> SlidingWindowCounterRateLimiter:
        if self.shared is None:
            return self.memory
        if self.away_since is None:
            return self.shared
        now = time.monotonic()
        if now - self._last_try >= RETRY_SHARED_SECONDS and self._probe is None:
            # Asked in the background: no request waits for an answer from an absent Redis.
            self._last_try = now
            self._probe = asyncio.get_running_loop().create_task(self._probe_shared())
        return self.memory

    async def _probe_shared(self) -> None:
        try:
            if await self._shared_answers():
                log.warning("rate limits: shared storage is back; limits are shared again")
                self.away_since = None
                metrics.RATE_LIMIT_AWAY.set(0)
        finally:
            self._probe = None

    async def _shared_answers(self) -> bool:
        assert self.shared_storage is not None
        try:
            async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS * 2):
                return bool(await self.shared_storage.check())
        except Exception:  # any failure means: still away
            return False

    def _fell_back(self, error: Exception) -> None:
        if self.away_since is None:
            log.warning(
                "rate limits: shared storage unreachable (%s); counting in this process's "
                "memory until it is back", type(error).__name__,
            )  # fmt: skip
            metrics.RATE_LIMIT_AWAY.set(1)
        self.away_since = self._last_try = time.monotonic()

    async def _hit(
        self,
        strategy: SlidingWindowCounterRateLimiter,
        item: RateLimitItem,
        keys: list[str],
        cost: int = 1,
    ) -> tuple[bool, float]:
        if await strategy.hit(item, *keys, cost=cost):
            return True, 0.0
        stats = await strategy.get_window_stats(item, *keys)
        return False, stats.reset_time

    async def _test(
        self,
        strategy: SlidingWindowCounterRateLimiter,
        item: RateLimitItem,
        keys: list[str],
        cost: int = 1,
    ) -> tuple[bool, float]:
        if await strategy.test(item, *keys):
            return True, 0.0
        stats = await strategy.get_window_stats(item, *keys)
        return False, stats.reset_time

    async def _apply(
        self, name: str, identifiers: tuple[str, ...], *, count: bool, cost: int = 1
    ) -> None:
        item = self.limits[name]
        keys = [name, *identifiers]
        run = self._hit if count else self._test
        strategy = await self._strategy()
        if strategy is self.memory and self.shared is not None:
            metrics.RATE_LIMIT_FALLBACKS.inc()
        try:
            allowed, reset_time = await run(strategy, item, keys, cost)
        except (StorageError, OSError) as exc:
            if strategy is self.memory:
                raise
            self._fell_back(exc)
            metrics.RATE_LIMIT_FALLBACKS.inc()
            allowed, reset_time = await run(self.memory, item, keys, cost)
        if allowed:
            return
        retry_after = max(1, math.ceil(reset_time - time.time()))
        raise TooManyRequests(
            f"Rate limit of {item} exceeded; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )

    async def hit(self, name: str, *identifiers: str) -> None:
        """Count one request; raise 429 with Retry-After when the limit is spent."""
        await self._apply(name, identifiers, count=True)

    async def check(self, name: str, *identifiers: str) -> None:
        """429 if the limit is spent already, without counting this request."""
        await self._apply(name, identifiers, count=False)

    async def count(self, name: str, *identifiers: str) -> None:
        """Count one event against the limit (a failure), refusing nothing now."""
        try:
            await self._apply(name, identifiers, count=True)
        except TooManyRequests:
            pass

    async def give_back(self, name: str, *identifiers: str) -> None:
        """Return one request taken with hit(): the current window's counter goes down by
        one. (A hit just before a window boundary is given back to the next window, which
        then starts one lower: at most one extra request per request given back.)"""
        try:
            await self._apply(name, identifiers, count=True, cost=-1)
        except TooManyRequests:
            pass

    async def spent(self, name: str, *identifiers: str) -> bool:
        """Whether the limit is spent, refusing nothing."""
        try:
            await self._apply(name, identifiers, count=False)
        except TooManyRequests:
            return True
        return False


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# Logins from one address checked at once, per process: the limits are checked before a
# login and its failure counted after, so without this bound a burst of concurrent
# guesses would all pass the check before the first failure was counted.
LOGINS_IN_FLIGHT_PER_ADDRESS = 2
# A login for an e-mail that has failed RATE_LIMIT_LOGIN_EMAIL times (from anywhere) is
# answered this much later: guessing one account from many addresses slows to a crawl,
# while its owner, who knows the password, still gets in.
LOGIN_SLOWDOWN_SECONDS = 2.0


class _InFlight:
    """A small semaphore per key, dropped when nobody holds or waits for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        semaphore, users = self.slots.get(key, (asyncio.Semaphore(self.size), 0))
        self.slots[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self.slots[key]
            if users <= 1:
                del self.slots[key]
            else:
                self.slots[key] = (semaphore, users - 1)


_logins = _InFlight(LOGINS_IN_FLIGHT_PER_ADDRESS)


@asynccontextmanager
async def failed_login_limits(
    limiter: RateLimiter, request: Request, email: str
) -> AsyncIterator[None]:
    """Failed logins are what is limited, not logins: per client address
    (RATE_LIMIT_LOGIN) and per e-mail from that address (RATE_LIMIT_LOGIN_ACCOUNT), and
    a login is refused (429) once its address has spent either. A correct password is
    never refused for what others did: failures for someone's e-mail from elsewhere
    spend only those addresses' allowances, and staff signing in from one shared address
    use up nothing. Failures for one e-mail from everywhere (RATE_LIMIT_LOGIN_EMAIL)
    slow that e-mail's logins down rather than refuse them."""
    address, account = client_address(request), email.lower()
    await limiter.check("login", "addr", address)
    await limiter.check("login_account", account, address)
    async with _logins.hold(address):
        if await limiter.spent("login_email", account):
            await asyncio.sleep(LOGIN_SLOWDOWN_SECONDS)
        try:
            yield
        except BadCredentials:
            await limiter.count("login", "addr", address)
            await limiter.count("login_account", account, address)
            await limiter.count("login_email", account)
            metrics.FAILED_LOGINS.inc()
            raise


def _refused_as_invalid(error: BaseException) -> bool:
    """A 422: a malformed request, or one that breaks a rule (a date in the past, ...)."""
    if isinstance(error, RequestValidationError):
        return True
    return isinstance(error, AppError) and error.status_code == 422


@asynccontextmanager
async def allowance(limiter: RateLimiter, name: str, key: str, address: str) -> AsyncIterator[None]:
    """Take one request of limit `name` for `key` around the work it guards (429 when
    spent). A request refused as invalid (422) gives it back, so mistakes never use up
    anyone's allowance; it counts instead against RATE_LIMIT_REJECTED for its client
    address, a looser limit that, once spent, refuses that address's requests here (429)
    before any work, so a flood of bad requests is still held back.

    Taken with an atomic hit before the work, not counted after it: a burst of concurrent
    requests cannot all pass a check before the first is counted."""
    await limiter.check("rejected", address)
    await limiter.hit(name, key)
    try:
        yield
    except BaseException as error:
        if _refused_as_invalid(error):
            await limiter.give_back(name, key)
            await limiter.count("rejected", address)
        raise


async def register_limit(request: Request, limiter: LimiterDep) -> AsyncIterator[None]:
    """New accounts per client address (RATE_LIMIT_REGISTER); a refused registration (an
    invalid address or a weak password, 422) uses none of it. A dependency with `yield`:
    FastAPI raises the body's 422 after running it, into it."""
    address = client_address(request)
    async with allowance(limiter, "register", address, address):
        yield


async def password_reset_limit(request: Request, limiter: LimiterDep) -> AsyncIterator[None]:
    """Password-reset requests per client address (RATE_LIMIT_PASSWORD_RESET), as
    register_limit."""
    address = client_address(request)
    async with allowance(limiter, "password_reset", address, address):
        yield
