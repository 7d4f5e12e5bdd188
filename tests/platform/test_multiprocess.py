"""Two server processes (`restaurant serve --workers 2`) on one PostgreSQL: still one winner."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from app.auth.models import Role
from tests.conftest import TEST_SECRET, TestDatabase, UserFactory
from tests.factories import FRIDAY, booking_body, next_weekday
from tests.servers import free_port


@pytest.fixture
def server(db: TestDatabase) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": db.url,
        "SECRET_KEY": TEST_SECRET,
        "RATE_LIMIT_BOOKING": "1000/minute",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {proc.stderr.read()[-2000:]!r}")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.postgres_only
async def test_two_processes_fifty_requests_one_booking(
    server: str, make_user: UserFactory
) -> None:
    users = [await make_user(Role.customer) for _ in range(10)]
    body = booking_body(next_weekday(FRIDAY), "19:00", 4, table_id=7)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server, limits=limits, timeout=30) as client:
        responses = await asyncio.gather(
            *(client.post("/bookings", json=body, headers=users[i % 10][1]) for i in range(50))
        )
        statuses = [r.status_code for r in responses]
        assert statuses.count(201) == 1, statuses
        assert statuses.count(409) == 49, statuses
        _, staff = await make_user(Role.staff)
        listed = (await client.get("/bookings", headers=staff)).json()
        assert listed["total"] == 1 and listed["items"][0]["table_number"] == 7
