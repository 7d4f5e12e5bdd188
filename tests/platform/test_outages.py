"""Outages are answered as outages: a PostgreSQL restart or a Redis stop under load gives
503s (or a degraded answer), never a 500, and the service recovers by itself."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from app.ratelimit import RETRY_SHARED_SECONDS
from tests.conftest import TEST_SECRET
from tests.platform.services import PostgresCluster, RedisServer, ServiceProcess

PASSWORD = "outage-password-1"
CONCURRENCY = 16
LIMITS = {
    "RATE_LIMIT_LOGIN": "100000/minute",
    "RATE_LIMIT_BOOKING": "100000/minute",
    "RATE_LIMIT_AVAILABILITY": "100000/minute",
    "RATE_LIMIT_REGISTER": "100000/minute",
}


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test", "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "ERROR", "BCRYPT_ROUNDS": "4", **LIMITS, **extra,
    }  # fmt: skip


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env={**os.environ, **env}, check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip


@dataclass
class Answer:
    at: float
    kind: str
    status: int  # 0: no HTTP answer at all
    retry_after: str | None


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _guests(client: httpx.AsyncClient, n: int) -> list[dict[str, str]]:
    headers = []
    for i in range(n):
        email = f"outage-guest-{i}@example.com"
        body = {"email": email, "password": PASSWORD, "name": f"Guest {i}"}
        registered = await client.post("/auth/register", json=body)
        assert registered.status_code == 202, registered.text
        headers.append(await _sign_in(client, email))
    return headers


async def _load(
    base: str, guests: list[dict[str, str]], staff: dict[str, str], seconds: float
) -> list[Answer]:
    """CONCURRENCY clients for `seconds`, each cycling through the fast routes (an
    availability check, a booking) and ORM routes (a guest's list, the floor)."""
    answers: list[Answer] = []
    stop_at = time.monotonic() + seconds
    first_day = date.today() + timedelta(days=3)
    times = ["12:00", "13:00", "18:00", "19:00", "20:00", "21:00"]

    async def client_loop(number: int, client: httpx.AsyncClient) -> None:
        guest = guests[number % len(guests)]
        n = 0
        while time.monotonic() < stop_at:
            day = (first_day + timedelta(days=(number * 7 + n) % 60)).isoformat()
            at = times[n % len(times)]
            kind = ("availability", "booking", "my bookings", "floor")[n % 4]
            try:
                if kind == "availability":
                    params = {"date": day, "time": at, "party_size": "2"}
                    response = await client.get("/bookings/availability", params=params)
                elif kind == "booking":
                    body = {"date": day, "time": at, "party_size": 2}
                    response = await client.post("/bookings", json=body, headers=guest)
                elif kind == "my bookings":
                    response = await client.get("/bookings", headers=guest)
                else:
                    response = await client.get("/api/tables", headers=staff)
                answers.append(Answer(time.monotonic(), kind, response.status_code,
                                      response.headers.get("retry-after")))  # fmt: skip
            except httpx.TransportError:
                answers.append(Answer(time.monotonic(), kind, 0, None))
            n += 1

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(client_loop(i, client) for i in range(CONCURRENCY)))
    return answers


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    pg = PostgresCluster()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


async def test_a_postgres_restart_under_load_gives_no_500_and_service_resumes(
    cluster: PostgresCluster,
) -> None:
    env = _environment(cluster.url)
    _cli(env, "migrate")
    _cli(env, "create-admin", "--email", "outage-admin@example.com", "--password", PASSWORD)
    service = ServiceProcess(env)
    try:
        service.wait_ready()
        async with httpx.AsyncClient(base_url=service.base, timeout=30) as client:
            guests = await _guests(client, 8)
            staff = await _sign_in(client, "outage-admin@example.com")
            # Eight guests book all through the load: fair use would refuse them after four.
            widened = {"max_active_bookings_per_guest": 1_000_000}
            assert (await client.put("/restaurant", json=widened, headers=staff)).is_success
        load = asyncio.create_task(_load(service.base, guests, staff, seconds=14))
        await asyncio.sleep(3)
        restart_began = time.monotonic()
        await asyncio.to_thread(cluster.restart)
        restarted = time.monotonic()
        answers = await load
        assert service.process.poll() is None, "the service died"
    finally:
        service.stop()
    statuses = Counter(a.status for a in answers)
    unhandled = [line for line in service.stderr().splitlines() if "unhandled error" in line]
    assert statuses[500] == 0 and statuses[0] == 0, (statuses, unhandled[:3])
    assert set(statuses) <= {200, 201, 409, 503}, statuses
    assert statuses[503], f"the restart was not felt: {statuses}"
    during = [a for a in answers if restart_began <= a.at <= restarted + 1]
    assert during, "the restart happened outside the load"
    assert all(a.retry_after for a in answers if a.status == 503)
    # Service resumed by itself: every kind of request succeeds again after the restart.
    later = [a for a in answers if a.at > restarted + 3]
    for kind in ("availability", "booking", "my bookings", "floor"):
        assert any(a.kind == kind and a.status in {200, 201} for a in later), (kind, statuses)


def _redis_keys(server: RedisServer) -> int:
    import redis

    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        return len(client.keys("*"))
    finally:
        client.close()


async def test_a_redis_stop_keeps_the_restaurant_open_and_limits_come_back(
    tmp_path: Path,
) -> None:
    """With RATE_LIMIT_STORAGE_URL=redis://... and Redis stopped: registration, login,
    availability and booking still work (limits counted in process memory, and still
    enforced there), readiness says so; once Redis is back the limits are shared again."""
    redis_server = RedisServer()
    redis_server.start()
    env = _environment(
        f"sqlite+aiosqlite:///{tmp_path / 'redis-outage.db'}",
        RATE_LIMIT_STORAGE_URL=redis_server.url,
        RATE_LIMIT_AVAILABILITY="30/year",
        LOG_LEVEL="WARNING",
    )
    _cli(env, "migrate")
    service = ServiceProcess(env)
    day = (date.today() + timedelta(days=5)).isoformat()
    check = {"date": day, "time": "19:00", "party_size": "2"}
    try:
        service.wait_ready()
        async with httpx.AsyncClient(base_url=service.base, timeout=30) as client:
            guest = (await _guests(client, 1))[0]
            assert (await client.get("/bookings/availability", params=check)).status_code == 200
            assert _redis_keys(redis_server) > 0  # the limits are counted in Redis
            assert (await client.get("/health/ready")).json()["rate_limits"] == "up"

            redis_server.stop()
            body = {"email": "during@example.com", "password": PASSWORD, "name": "During"}
            assert (await client.post("/auth/register", json=body)).status_code == 202
            during = await _sign_in(client, "during@example.com")
            booking = {"date": day, "time": "19:00", "party_size": 2}
            assert (await client.post("/bookings", json=booking, headers=during)).status_code == 201
            checks = [
                (await client.get("/bookings/availability", params=check)).status_code
                for _ in range(31)
            ]
            assert 500 not in checks
            assert checks[:29] == [200] * 29 and checks[-1] == 429, checks  # still limited
            ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            scraped = (await client.get("/metrics")).text
            assert "restaurant_rate_limit_storage_away 1.0" in scraped
            fallbacks = re.search(r"restaurant_rate_limit_fallback_hits_total (\d+)", scraped)
            assert fallbacks and int(fallbacks.group(1)) >= 31, scraped[-2000:]
            assert ready.json() == {
                "status": "ok",
                "database": "up",
                "rate_limits": "away",
                "email": "up",
            }

            redis_server.start()  # the same port
            await asyncio.sleep(RETRY_SHARED_SECONDS + 0.5)
            assert (await client.get("/bookings", headers=guest)).status_code == 200
            back = await client.post("/auth/login", json={"email": "during@example.com",
                                                          "password": PASSWORD})  # fmt: skip
            assert back.status_code == 200
            # The next request asks, in the background, whether Redis is back; the ones
            # after it count there again.
            for _ in range(20):
                assert (await client.get("/bookings/availability", params=check)).status_code == 200
                if _redis_keys(redis_server) > 0:
                    break
                await asyncio.sleep(0.1)
            assert _redis_keys(redis_server) > 0  # counted in Redis again
            assert (await client.get("/health/ready")).json()["rate_limits"] == "up"
        log = service.stderr()
        assert log.count("shared storage unreachable") == 1, log[-3000:]  # logged once
    finally:
        service.stop()
        redis_server.stop()
