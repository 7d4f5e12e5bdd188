#!/usr/bin/env python3
"""Load benchmark for the booking engine (`make bench`); see bench/README.md.

Load mode (default): make a scratch database (SQLite file or the PostgreSQL database
`restaurant_bench`), migrate it, open the restaurant 24 hours a day for two years, add
users and some bookings, start ONE server (`python -m app.cli serve`) on a free port of
127.0.0.1, then drive it from here with a small keep-alive HTTP/1.1 client (one
connection per concurrent worker) and print requests, successes, requests/s and
p50/p95/p99 latency per scenario, plus a markdown table. The server is stopped by its PID
and the scratch database dropped at the end, whatever happens.

Explain mode (`--explain`, PostgreSQL only): seed 1,000 and 1,000,000 bookings with
generate_series, ANALYZE, then EXPLAIN (ANALYZE, BUFFERS) the exact SQL that
app.bookings.availability issues for one slot (captured from the real functions), so the
plans and buffer counts of the two sizes can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

HOST = "127.0.0.1"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SCRATCH_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
HIGH_LIMIT = "1000000/minute"
HARD_MAX_REQUESTS = 1_000_000  # per scenario, when --requests is not given
HARD_MAX_SECONDS = 300.0  # per scenario, when --duration is not given
BCRYPT_ROUNDS = 4
SCENARIOS = ("availability", "booking", "booking-table", "day")

# Bookings made by the booking scenario start at these local times: 150 minutes apart, the
# longest default dining time, so bookings of one table in different blocks never overlap.
# All are after 03:00, clear of the daylight-saving changes in Europe/London.
BOOKING_BLOCKS = ("03:00", "05:30", "08:00", "10:30", "13:00", "15:30", "18:00", "20:30")
# Party size of the n-th booking made in one block: with best fit, all twelve fit the
# default 20 tables (6 x 2, 7 x 4, 3 x 6, 2 x 8, 1 x 10, 1 x 12) whatever their order.
PARTY_ROUNDS = (2, 4, 2, 6, 3, 8, 2, 4, 5, 10, 1, 12)
# Pre-seeded bookings (odd days): every table busy 12:00-14:30 and 19:00-21:30, so some
# availability checks find no table and compute alternatives.
SEED_TIMES = ("12:00", "19:00")
SEED_MINUTES = 150


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _ticks_to_seconds(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc), 0 if unreadable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return _ticks_to_seconds(int(fields[11]) + int(fields[12]))


def process_sched_seconds(pid: int) -> tuple[float, float]:
    """(seconds on a core, seconds runnable but waiting for one) of a process's main
    thread so far (Linux /proc/<pid>/schedstat), (0, 0) if unreadable."""
    try:
        run_ns, wait_ns = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def _machine_ticks() -> list[int]:
    try:
        return list(map(int, Path("/proc/stat").read_text().splitlines()[0].split()[1:9]))
    except OSError:
        return [0] * 8


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, all cores (Linux /proc/stat),
    including time the hypervisor gave to other machines (steal)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = _machine_ticks()
    return _ticks_to_seconds(user + nice + system + irq + softirq + steal)


def machine_steal_seconds() -> float:
    """CPU seconds this virtual machine wanted but the hypervisor ran something else."""
    return _ticks_to_seconds(_machine_ticks()[7])


def postgres_backend_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to `dbname` (Linux /proc)."""
    out: dict[int, float] = {}
    marker = f" {dbname} ".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and marker in cmdline:
            out[int(entry.name)] = process_cpu_seconds(int(entry.name))
    return out


class PgWatch:
    """Samples pg_stat_activity of the scratch database ten times a second: what the
    server's connections are doing (running, waiting on a lock, idle in a transaction)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.url = url
        self.dbname = make_url(url).database or ""
        self.samples = 0
        self.states: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cpu0: dict[int, float] = {}
        self._stats0: tuple[float, ...] = ()
        self.stats: dict[str, float] = {}

    async def start(self) -> None:
        self.samples = 0
        self.states.clear()
        self._stop.clear()
        self._cpu0 = postgres_backend_cpu(self.dbname)
        self._task = asyncio.create_task(self._run())

    _STATS = (
        "SELECT sessions, xact_commit, xact_rollback, active_time, idle_in_transaction_time "
        "FROM pg_stat_database WHERE datname = current_database()"
    )

    # Cluster-wide (PostgreSQL 14+): the WAL the run wrote and how often it was flushed.
    _WAL = "SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal"

    async def _database_stats(self, conn: Any) -> tuple[float, ...]:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        stats = tuple(float(v or 0) for v in (await conn.execute(text(self._STATS))).one())
        try:
            wal = tuple(float(v or 0) for v in (await conn.execute(text(self._WAL))).one())
        except DBAPIError:  # before PostgreSQL 14
            wal = (0.0, 0.0, 0.0)
        return stats + wal

    async def _run(self) -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.url, pool_size=1, max_overflow=0)
        query = text(
            "SELECT state, wait_event_type, wait_event, count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' GROUP BY 1, 2, 3"
        )
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                self._stats0 = await self._database_stats(conn)
                while not self._stop.is_set() and self.samples < 100_000:
                    for state, wait_type, wait, count in await conn.execute(query):
                        if state == "active" and not wait_type:
                            label = "active (running)"
                        elif wait_type:
                            label = f"{state}, waiting {wait_type}:{wait}"
                        else:
                            label = str(state)
                        self.states[label] += count
                    self.samples += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 0.1)
                await asyncio.sleep(0.6)  # backends report their counters within ~0.5 s
                stats1 = await self._database_stats(conn)
                names = ("sessions", "commits", "rollbacks", "active_ms", "idle_in_xact_ms",
                         "wal_records", "wal_bytes", "wal_syncs")  # fmt: skip
                self.stats = {n: b - a for n, a, b in zip(names, self._stats0, stats1, strict=True)}
        finally:
            await engine.dispose()

    async def stop(self) -> float:
        """Stop sampling; return the CPU seconds the database's backends used meanwhile."""
        self._stop.set()
        if self._task is not None:
            await self._task
        cpu1 = postgres_backend_cpu(self.dbname)
        return sum(cpu - self._cpu0.get(pid, 0.0) for pid, cpu in cpu1.items())

    def describe(self) -> str:
        if not self.samples:
            return "no samples"
        parts = [
            f"{label} {count / self.samples:.1f}" for label, count in self.states.most_common()
        ]
        text = ", ".join(parts)
        if self.stats:
            st = self.stats
            text += (
                f"\npg_stat_database: {st['sessions']:.0f} new connections, "
                f"{st['commits']:.0f} commits, {st['rollbacks']:.0f} rollbacks, "
                f"{st['active_ms'] / 1000:.2f} s running statements, "
                f"{st['idle_in_xact_ms'] / 1000:.2f} s idle in transaction (summed over backends)"
            )
            if st["wal_syncs"] and st["commits"]:
                # Every commit that must be durable waits for a flush; one flush serves
                # the commits that came in while the previous one was under way.
                text += (
                    f"\nWAL (whole cluster): {st['wal_bytes'] / st['commits']:,.0f} bytes and "
                    f"{st['wal_records'] / st['commits']:.1f} records per commit, "
                    f"{st['commits'] / st['wal_syncs']:.1f} commits per flush to disk"
                )
        return text


def check_loopback(url: str) -> None:
    from sqlalchemy.engine import make_url

    host = make_url(url).host
    if host and host not in LOOPBACK_NAMES:
        raise SystemExit(f"bench: refusing to use {host!r}: the bench only talks to {HOST}")


# ---------------------------------------------------------------------------------------
# scratch database
# ---------------------------------------------------------------------------------------


async def _pg_admin(base_url: str, statements: list[str]) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_database(kind: str, postgres_url: str, name: str) -> Iterator[str]:
    """Yield the URL of a new empty database; drop it (or delete the file) afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="restaurant-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return

    from sqlalchemy.engine import make_url

    check_loopback(postgres_url)
    base = make_url(postgres_url)
    if not SCRATCH_NAME.match(name) or name == base.database:
        raise SystemExit(f"bench: {name!r} cannot be the scratch database name")
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    log(f"bench: creating PostgreSQL database {name} on {base.host}:{base.port or 5432}")
    asyncio.run(_pg_admin(postgres_url, [drop, f'CREATE DATABASE "{name}"']))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(postgres_url, [drop]))
        log(f"bench: dropped database {name}")


def migrate(url: str) -> None:
    from app.cli import migrate as app_migrate

    started = time.perf_counter()
    app_migrate(url)
    log(f"bench: migrated ({time.perf_counter() - started:.1f} s)")


# ---------------------------------------------------------------------------------------
# data set-up for the load test
# ---------------------------------------------------------------------------------------


@dataclass
class Fixture:
    today: date  # restaurant-local
    tokens: list[str]
    seeded_bookings: int
    tables: list[tuple[int, int]]  # (id, capacity)


def _local_instant(zone: ZoneInfo, day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).astimezone(UTC)


async def prepare_load(url: str, *, users: int, seed_bookings: int, secret: str) -> Fixture:
    """Widen the restaurant's settings, add users and seed bookings; mint access tokens."""
    import bcrypt
    from sqlalchemy import insert, select, text, update

    from app.auth import security
    from app.auth.models import Role, User
    from app.bookings.models import Booking, BookingStatus
    from app.db.base import utcnow
    from app.db.engine import Database
    from app.floor.models import RestaurantTable
    from app.venue.models import RestaurantSettings
    from app.venue.schemas import WEEKDAYS

    database = Database.from_url(url)
    now = utcnow()
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                update(RestaurantSettings)
                .where(RestaurantSettings.id == 1)
                .values(
                    opening_hours={d: [{"opens": "00:00", "closes": "24:00"}] for d in WEEKDAYS},
                    horizon_days=730,
                    lead_minutes=0,
                    closed_dates=[],
                    updated_at=now,
                )
            )
            zone = ZoneInfo(
                str(
                    await conn.scalar(
                        select(RestaurantSettings.timezone).where(RestaurantSettings.id == 1)
                    )
                )
            )
            hashed = bcrypt.hashpw(b"bench-password", bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()
            tag = secrets.token_hex(4)
            await conn.execute(
                insert(User),
                [
                    {
                        "email": f"bench-{tag}-{n}@example.com",
                        "name": f"Bench user {n}",
                        "hashed_password": hashed,
                        "role": Role.customer,
                        "is_active": True,
                        "created_at": now,
                    }
                    for n in range(users)
                ],
            )
            user_ids = list(
                await conn.scalars(
                    select(User.id).where(User.email.like(f"bench-{tag}-%")).order_by(User.id)
                )
            )
            tables = (
                await conn.execute(
                    select(RestaurantTable.id, RestaurantTable.capacity).order_by(
                        RestaurantTable.id
                    )
                )
            ).all()
            today = now.astimezone(zone).date()
            rows: list[dict[str, Any]] = []
            offset = 1  # odd days only: the booking scenario books even days
            while len(rows) < seed_bookings and offset <= 729:
                day = today + timedelta(days=offset)
                for hhmm in SEED_TIMES:
                    starts_at = _local_instant(zone, day, hhmm)
                    for n, (table_id, capacity) in enumerate(tables):
                        if len(rows) >= seed_bookings:
                            break
                        rows.append({
                            "user_id": user_ids[n % len(user_ids)],
                            "table_id": table_id,
                            "party_size": min(capacity, 2 + n % 3),
                            "starts_at": starts_at,
                            "ends_at": starts_at + timedelta(minutes=SEED_MINUTES),
                            "status": BookingStatus.confirmed,
                            "created_at": now,
                            "updated_at": now,
                        })  # fmt: skip
                offset += 2
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(Booking), rows[start : start + 5000])
            if database.engine.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE"))
    finally:
        await database.dispose()
    tokens = [
        security.encode_token(
            secret=secret,
            user_id=user_id,
            role=Role.customer.value,
            token_type="access",
            lifetime=timedelta(hours=6),
        )[0]
        for user_id in user_ids
    ]
    log(f"bench: {len(tokens)} users, {len(rows)} seeded bookings, settings widened")
    return Fixture(
        today=today,
        tokens=tokens,
        seeded_bookings=len(rows),
        tables=[(int(t), int(c)) for t, c in tables],
    )


# ---------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------


class Server:
    """One `python -m app.cli serve` process on 127.0.0.1, stopped by its PID."""

    def __init__(
        self, url: str, secret: str, log_path: Path, extra_env: dict[str, str], *, worker: bool
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.with_worker = worker
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "HOST": HOST,
            "PORT": str(self.port),
            "RATE_LIMIT_STORAGE_URL": "memory://",
            "RATE_LIMIT_BOOKING": HIGH_LIMIT,
            "RATE_LIMIT_AVAILABILITY": HIGH_LIMIT,
            "RATE_LIMIT_LOGIN": HIGH_LIMIT,
            # Booking e-mails go to the log (silenced at WARNING), never to an SMTP server or
            # a folder that a developer's .env may name: the bench only talks to 127.0.0.1.
            "SMTP_HOST": "",
            "MAIL_OUTPUT_DIR": "",
            # As docker-compose.yml deploys it: the e-mails go out from `restaurant worker`.
            "OUTBOX_IN_PROCESS": "false" if worker else "true",
            **extra_env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def worker_pid(self) -> int | None:
        return self.worker.pid if self.worker is not None else None

    def start(self) -> None:
        command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST]
        command += ["--port", str(self.port)]
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
            log(f"bench: server pid {self.proc.pid} on http://{HOST}:{self.port}")
            if self.with_worker:
                self.worker = subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
                log(f"bench: outbox worker pid {self.worker.pid}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        request = HttpRequest.get("/health/ready", self.port)
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.worker is not None and self.worker.poll() is not None:
                code = self.worker.returncode
                raise RuntimeError(f"outbox worker exited with {code}:\n{self.log_tail()}")
            conn = HttpConnection(HOST, self.port)
            try:
                async with asyncio.timeout(5):
                    await conn.connect()
                    status, _ = await conn.send(request)
                if status == 200:
                    return
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                pass
            finally:
                await conn.close()
            await asyncio.sleep(0.2)
        raise RuntimeError(f"server not ready after {within:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        for name, proc in (("server", self.proc), ("outbox worker", self.worker)):
            if proc is None or proc.poll() is not None:
                continue
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"bench: {name} pid {proc.pid} ignored SIGTERM for {timeout:.0f} s; killing")
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
            log(f"bench: {name} pid {proc.pid} stopped ({proc.returncode})")


# ---------------------------------------------------------------------------------------
# a minimal HTTP/1.1 keep-alive client over asyncio streams
# ---------------------------------------------------------------------------------------


class HttpRequest:
    @staticmethod
    def get(path: str, port: int, headers: str = "") -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n"
            f"{headers}\r\n"
        ).encode()

    @staticmethod
    def post_json(path: str, port: int, body: bytes, headers: str = "") -> bytes:
        return (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
        ).encode() + body


class HttpConnection:
    """One TCP connection; requests are sent one at a time (no pipelining)."""

    __slots__ = ("host", "port", "reader", "writer")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, RuntimeError):
                await writer.wait_closed()

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and read its response: (status, body)."""
        if self.writer is None:
            await self.connect()
        reader, writer = self.reader, self.writer
        assert reader is not None and writer is not None
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = False
        close = lines[0].startswith(b"HTTP/1.0")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                        pass
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        elif length >= 0:
            body = await reader.readexactly(length) if length else b""
        elif status in (204, 304) or status < 200:
            body = b""
        else:  # no framing: the body runs to the end of the connection
            body = await reader.read()
            close = True
        if close:
            await self.close()
        return status, body


# ---------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------

MakeRequest = Callable[[int, int], bytes]  # (request index, worker index) -> raw request


@dataclass
class Scenario:
    name: str
    ok_status: int
    make: MakeRequest
    describe: str


def _times(first: str, last: str, step: int = 15) -> list[str]:
    h1, m1 = map(int, first.split(":"))
    h2, m2 = map(int, last.split(":"))
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(h1 * 60 + m1, h2 * 60 + m2 + 1, step)]


def availability_scenario(port: int, today: date, seed: int) -> Scenario:
    """GET /bookings/availability at random dates (next two years), times and party sizes."""
    rng = random.Random(seed)
    times = _times("03:00", "21:30")  # valid for every party size once open 00:00-24:00
    pool = [
        HttpRequest.get(
            f"/bookings/availability?date={today + timedelta(days=rng.randint(1, 729))}"
            f"&time={rng.choice(times)}&party_size={rng.randint(1, 12)}",
            port,
        )
        for _ in range(20_000)
    ]
    return Scenario(
        "availability",
        200,
        lambda i, _w: pool[i % len(pool)],
        "GET /bookings/availability?date&time&party_size (random over 2 years, parties 1-12)",
    )


def day_scenario(port: int, today: date, seed: int) -> Scenario:
    """GET /bookings/availability without a time: every slot of a day."""
    rng = random.Random(seed)
    pool = [
        HttpRequest.get(
            f"/bookings/availability?date={today + timedelta(days=rng.randint(1, 729))}"
            f"&party_size={rng.randint(1, 12)}",
            port,
        )
        for _ in range(20_000)
    ]
    return Scenario(
        "day",
        200,
        lambda i, _w: pool[i % len(pool)],
        "GET /bookings/availability?date&party_size (whole day, 85+ slots)",
    )


def booking_scenario(
    port: int,
    today: date,
    tokens: list[str],
    seed: int,
    tables: list[tuple[int, int]] | None = None,
) -> Scenario:
    """POST /bookings: request i goes to slot i mod S (even days x 8 time blocks, shuffled),
    the n-th visit of a slot with party size PARTY_ROUNDS[n], so up to 12 x S succeed.

    With `tables` (scenario booking-table) each request names its table: table (s + n) mod
    20 for the n-th visit of slot s, so concurrent requests ask for different tables and up
    to 20 x S succeed; the party is sized to the table."""
    slots = [
        ((today + timedelta(days=offset)).isoformat(), block)
        for offset in range(2, 729, 2)
        for block in BOOKING_BLOCKS
    ]
    random.Random(seed).shuffle(slots)
    auth = [f"Authorization: Bearer {token}\r\n" for token in tokens]
    count = len(slots)

    def make(i: int, worker: int) -> bytes:
        day, hhmm = slots[i % count]
        visit = i // count
        if tables:
            table_id, capacity = tables[(i % count + visit) % len(tables)]
            party = 1 + i % capacity
            extra = f',"table_id":{table_id}'
        else:
            party = PARTY_ROUNDS[visit % len(PARTY_ROUNDS)]
            extra = ""
        body = f'{{"date":"{day}","time":"{hhmm}","party_size":{party}{extra}}}'.encode()
        return HttpRequest.post_json("/bookings", port, body, auth[worker % len(auth)])

    how = "the table named, spread over all tables" if tables else "best-fit table"
    return Scenario(
        "booking-table" if tables else "booking",
        201,
        make,
        f"POST /bookings ({how}) over {count} distinct date/time slots, {len(tokens)} users",
    )


# ---------------------------------------------------------------------------------------
# the load loop
# ---------------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    database: str
    concurrency: int
    ok_status: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, completed responses
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # exceptions: no response
    samples: dict[int, bytes] = field(default_factory=dict)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    server_sched: tuple[float, float] = (0.0, 0.0)  # seconds on a core, waiting for one
    worker_cpu: float | None = None  # the outbox worker process, when there is one
    machine_cpu: float = 0.0
    steal_cpu: float = 0.0  # part of machine_cpu: taken by the hypervisor
    db_cpu: float | None = None  # PostgreSQL backends of the scratch database
    db_activity: str = ""

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def ok(self) -> int:
        return self.statuses[self.ok_status]

    @property
    def conflicts(self) -> int:
        return self.statuses[409]

    @property
    def errors(self) -> int:
        """5xx answers and requests that got no answer at all."""
        return sum(n for s, n in self.statuses.items() if s >= 500) + sum(self.failures.values())

    @property
    def other(self) -> dict[int, int]:
        return {
            s: n
            for s, n in sorted(self.statuses.items())
            if s not in (self.ok_status, 409) and s < 500
        }

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def pct_ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "database": self.database,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "ok": self.ok,
            "ok_status": self.ok_status,
            "conflicts_409": self.conflicts,
            "errors": self.errors,
            "other_statuses": self.other,
            "failures": dict(self.failures),
            "elapsed_s": round(self.elapsed, 3),
            "requests_per_s": round(self.rate, 1),
            "p50_ms": round(self.pct_ms(50), 2),
            "p95_ms": round(self.pct_ms(95), 2),
            "p99_ms": round(self.pct_ms(99), 2),
            "max_ms": round(self.pct_ms(100), 2),
            "cpu_cores_busy": {
                "machine": round(self.machine_cpu / self.elapsed, 2) if self.elapsed else 0,
                "hypervisor_steal": round(self.steal_cpu / self.elapsed, 2) if self.elapsed else 0,
                "server": round(self.server_cpu / self.elapsed, 2) if self.elapsed else 0,
                "outbox_worker": round(self.worker_cpu / self.elapsed, 2)
                if self.elapsed and self.worker_cpu is not None
                else None,
                "client": round(self.client_cpu / self.elapsed, 2) if self.elapsed else 0,
                "postgres_backends": round(self.db_cpu / self.elapsed, 2)
                if self.elapsed and self.db_cpu is not None
                else None,
            },
            "postgres_connections_avg": self.db_activity or None,
        }


class Counter_:
    """Hands out request indexes 0, 1, 2, ... shared by warm-up and measurement."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        index = self.next
        self.next += 1
        return index


async def run_load(
    *,
    port: int,
    scenario: Scenario,
    sequence: Counter_,
    concurrency: int,
    seconds: float,
    max_requests: int,
    request_timeout: float,
    result: Result,
    server_pid: int,
    worker_pid: int | None = None,
    watch: PgWatch | None = None,
) -> Result:
    """`concurrency` workers, each on its own keep-alive connection, until `seconds` have
    passed or `max_requests` requests were started, whichever comes first."""
    started_requests = 0
    perf = time.perf_counter
    deadline = perf() + seconds
    latencies = result.latencies
    statuses = result.statuses

    async def worker(worker_id: int) -> None:
        nonlocal started_requests
        conn = HttpConnection(HOST, port)
        try:
            while started_requests < max_requests and perf() < deadline:
                started_requests += 1
                raw = scenario.make(sequence.take(), worker_id)
                t0 = perf()
                try:
                    async with asyncio.timeout(request_timeout):
                        status, body = await conn.send(raw)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.failures[type(exc).__name__] += 1
                    await conn.close()
                    continue
                latencies.append(perf() - t0)
                statuses[status] += 1
                if status != scenario.ok_status and status not in result.samples:
                    result.samples[status] = body[:300]
        finally:
            await conn.close()

    cpu0 = time.process_time()
    server0 = process_cpu_seconds(server_pid)
    sched0 = process_sched_seconds(server_pid)
    worker0 = process_cpu_seconds(worker_pid) if worker_pid else 0.0
    machine0 = machine_cpu_seconds()
    steal0 = machine_steal_seconds()
    if watch is not None:
        await watch.start()
    t_start = perf()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    result.elapsed = perf() - t_start
    if watch is not None:
        result.db_cpu = await watch.stop()
        result.db_activity = watch.describe()
    result.client_cpu = time.process_time() - cpu0
    result.server_cpu = process_cpu_seconds(server_pid) - server0
    sched1 = process_sched_seconds(server_pid)
    result.server_sched = (sched1[0] - sched0[0], sched1[1] - sched0[1])
    if worker_pid:
        result.worker_cpu = process_cpu_seconds(worker_pid) - worker0
    result.machine_cpu = machine_cpu_seconds() - machine0
    result.steal_cpu = machine_steal_seconds() - steal0
    latencies.sort()
    return result


def print_result(r: Result) -> None:
    other = ", ".join(f"{s}: {n}" for s, n in r.other.items()) or "none"
    print(f"\n== {r.scenario} ({r.database}, concurrency {r.concurrency}) ==")
    print(
        f"requests {r.requests} in {r.elapsed:.2f} s | {r.ok_status}: {r.ok} | 409: {r.conflicts}"
        f" | errors (5xx / no answer): {r.errors} | other: {other}"
    )
    print(
        f"{r.rate:,.1f} req/s | latency p50 {r.pct_ms(50):.1f} ms, p95 {r.pct_ms(95):.1f} ms, "
        f"p99 {r.pct_ms(99):.1f} ms, max {r.pct_ms(100):.1f} ms"
    )
    machine, server, client = (x / r.elapsed for x in (r.machine_cpu, r.server_cpu, r.client_cpu))
    parts = [f"server {server:.2f}", f"bench client {client:.2f}"]
    known = server + client
    if r.worker_cpu is not None:
        parts.insert(1, f"outbox worker {r.worker_cpu / r.elapsed:.2f}")
        known += r.worker_cpu / r.elapsed
    if r.db_cpu is not None:
        parts.append(f"postgres backends {r.db_cpu / r.elapsed:.2f}")
        known += r.db_cpu / r.elapsed
    parts.append(f"everything else {max(0.0, machine - known):.2f}")
    print(f"CPU, cores busy: machine {machine:.2f} of {os.cpu_count()} = {' + '.join(parts)}")
    # A virtual machine's cores can be taken by the hypervisor for other guests: the
    # runs with much steal (or much "everything else") are the disturbed ones.
    print(f"hypervisor steal: {r.steal_cpu / r.elapsed:.2f} cores")
    on_core, waiting = r.server_sched
    if r.elapsed and (on_core or waiting):
        # A server that is on a core or waiting for one all the time is the bottleneck;
        # the waiting share is what the other processes on the machine took from it.
        print(
            f"server process (/proc/<pid>/schedstat): on a core {on_core / r.elapsed:.0%} of "
            f"the time, runnable but waiting for a core {waiting / r.elapsed:.0%}"
        )
    if r.db_activity:
        print(f"server's PostgreSQL connections, average count: {r.db_activity}")
    if r.failures:
        print(f"no answer: {dict(r.failures)}")
    for status, body in sorted(r.samples.items()):
        print(f"sample {status}: {body.decode(errors='replace')}")


def markdown_table(results: list[Result]) -> str:
    lines = [
        "| Database | Scenario | Concurrency | Requests | Successes | 409 | Errors | req/s "
        "| p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.scenario} | {r.concurrency} | {r.requests} | {r.ok} "
            f"| {r.conflicts} | {r.errors} | {r.rate:,.0f} | {r.pct_ms(50):.1f} "
            f"| {r.pct_ms(95):.1f} | {r.pct_ms(99):.1f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# optional profiling of the server with py-spy
# ---------------------------------------------------------------------------------------


def find_py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start_py_spy(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Sample the server (CPU only, without pausing it) for `seconds` into a raw file."""
    return subprocess.Popen(
        [find_py_spy() or "py-spy", "record", "--pid", str(pid), "--rate", "200",
         "--format", "raw", "--nonblocking", "--output", str(output),
         "--duration", str(max(1, math.ceil(seconds)))],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _frame_key(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    file = match.group("file")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return match.group("func"), file


def _package(file: str) -> str:
    if file.startswith("app/"):
        return "app (" + file.split("/")[1].removesuffix(".py") + ")"
    head = file.split("/", 1)[0].removesuffix(".py")
    return head or "?"


def summarize_profile(path: Path, top: int = 20) -> str:
    """Self and inclusive samples per function, and self samples per package."""
    self_counts: Counter[tuple[str, str]] = Counter()
    incl_counts: Counter[tuple[str, str]] = Counter()
    package_counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_key(f) for f in stack.split(";")]
        frames = [f for f in frames if f[1]]  # drop "process ..." / "thread ..." pseudo-frames
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        package_counts[_package(frames[-1][1])] += count
        for key in set(frames):
            incl_counts[key] += count
    if not total:
        return f"(no samples in {path})"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [f"{total} samples (CPU only; idle event-loop waits are not sampled)"]
    out.append("self time by package:")
    out += [f"  {pct(n)}  {name}" for name, n in package_counts.most_common(15)]
    out.append(f"top {top} functions by self time:")
    out += [f"  {pct(n)}  {f} ({file})" for (f, file), n in self_counts.most_common(top)]
    out.append(f"top {top} functions by inclusive time (app and library code):")
    skip = {"run", "_run_once", "run_until_complete", "run_forever", "<module>", "_run_code",
            "_run_module_as_main", "main", "_cmd_serve", "serve", "_serve"}  # fmt: skip
    chosen = [(k, n) for k, n in incl_counts.most_common() if k[0] not in skip][:top]
    out += [f"  {pct(n)}  {f} ({file})" for (f, file), n in chosen]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# load mode
# ---------------------------------------------------------------------------------------


OUTBOX_DRAIN_SECONDS = 60.0


async def outbox_report(url: str, server_pid: int, worker_pid: int | None) -> str:
    """Every booking queues a confirmation: wait (bounded) until none is due any more,
    and say how long the senders took to catch up and what it cost them."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    due = (
        "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending') "
        "AND kind = 'booking_confirmed'"
    )
    pids = [server_pid] + ([worker_pid] if worker_pid else [])
    cpu0 = sum(process_cpu_seconds(pid) for pid in pids)
    engine = create_async_engine(url)
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            waiting = (await conn.execute(text(due))).scalar_one()
            backlog = waiting
            while waiting and time.perf_counter() - started < OUTBOX_DRAIN_SECONDS:
                await asyncio.sleep(0.25)
                waiting = (await conn.execute(text(due))).scalar_one()
            rows = await conn.execute(
                text(
                    "SELECT status, count(*) FROM outbox_messages "
                    "WHERE kind = 'booking_confirmed' GROUP BY status ORDER BY status"
                )
            )
            counts = ", ".join(f"{status} {n}" for status, n in rows)
    finally:
        await engine.dispose()
    took = time.perf_counter() - started
    cpu = sum(process_cpu_seconds(pid) for pid in pids) - cpu0
    state = "none left" if not waiting else f"{waiting} still due after {took:.0f} s"
    return (
        f"confirmation e-mails: {backlog} not yet sent when the load stopped; {state} "
        f"({took:.1f} s, {cpu:.2f} CPU s to catch up); all confirmations by status: {counts}"
    )


async def run_scenarios(
    args: argparse.Namespace, server: Server, fixture: Fixture, database: str, url: str
) -> list[Result]:
    watch = PgWatch(url) if database == "postgres" else None
    builders: dict[str, Callable[[], Scenario]] = {
        "availability": lambda: availability_scenario(server.port, fixture.today, args.seed),
        "day": lambda: day_scenario(server.port, fixture.today, args.seed + 1),
        "booking": lambda: booking_scenario(
            server.port, fixture.today, fixture.tokens, args.seed + 2
        ),
        "booking-table": lambda: booking_scenario(
            server.port, fixture.today, fixture.tokens, args.seed + 3, tables=fixture.tables
        ),
    }
    results = []
    for name in args.scenarios:
        scenario = builders[name]()
        sequence = Counter_()
        log(f"bench: {name}: {scenario.describe}")
        if args.warmup > 0:
            await run_load(
                port=server.port, scenario=scenario, sequence=sequence,
                concurrency=args.concurrency, seconds=args.warmup,
                max_requests=args.warmup_requests, request_timeout=args.timeout,
                result=Result(name, database, args.concurrency, scenario.ok_status),
                server_pid=server.pid,
            )  # fmt: skip
        spy = None
        if args.py_spy:
            spy = start_py_spy(server.pid, args.py_spy / f"{database}-{name}.txt", args.seconds)
            await asyncio.sleep(0.5)  # let it attach
        result = await run_load(
            port=server.port, scenario=scenario, sequence=sequence,
            concurrency=args.concurrency, seconds=args.seconds,
            max_requests=args.max_requests, request_timeout=args.timeout,
            result=Result(name, database, args.concurrency, scenario.ok_status),
            server_pid=server.pid, worker_pid=server.worker_pid, watch=watch,
        )  # fmt: skip
        print_result(result)
        if name.startswith("booking"):
            print(await outbox_report(url, server.pid, server.worker_pid))
        if spy is not None:
            try:
                _, err = await asyncio.to_thread(spy.communicate, timeout=args.seconds + 30)
            except subprocess.TimeoutExpired:
                spy.kill()
                _, err = spy.communicate()
            spy_file = args.py_spy / f"{database}-{name}.txt"
            if spy_file.exists():
                print(f"\n-- py-spy profile of the server, {name} ({spy_file}) --")
                print(summarize_profile(spy_file))
            else:
                print(f"py-spy produced no profile: {err.decode(errors='replace').strip()}")
        results.append(result)
        sys.stdout.flush()
    return results


def load_mode(args: argparse.Namespace) -> int:
    database = args.database or "sqlite"
    secret = "bench-" + secrets.token_urlsafe(40)
    if args.py_spy:
        if not find_py_spy():
            raise SystemExit("bench: --py-spy needs py-spy (pip install py-spy into .venv)")
        args.py_spy.mkdir(parents=True, exist_ok=True)
    busy0, t0 = machine_cpu_seconds(), time.perf_counter()
    time.sleep(1.0)
    busy = (machine_cpu_seconds() - busy0) / (time.perf_counter() - t0)
    if busy > 0.25:
        log(f"bench: WARNING: other processes keep {busy:.2f} of {os.cpu_count()} cores busy; "
            "the results will be lower and noisier than on an idle machine")  # fmt: skip
    with scratch_database(database, args.postgres_url, args.scratch_db) as url:
        migrate(url)
        fixture = asyncio.run(
            prepare_load(
                url,
                users=args.users or args.concurrency,
                seed_bookings=args.seed_bookings,
                secret=secret,
            )
        )
        log_dir = Path(tempfile.mkdtemp(prefix="restaurant-bench-log-"))
        worker = args.outbox == "worker" or (args.outbox == "auto" and database == "postgres")
        server = Server(url, secret, log_dir / "server.log", dict(args.server_env), worker=worker)
        results: list[Result] = []
        try:
            server.start()

            async def drive() -> list[Result]:
                await server.wait_ready()
                return await run_scenarios(args, server, fixture, database, url)

            results = asyncio.run(drive())
        finally:
            server.stop()
            tail = server.log_tail(15)
            if tail.strip():
                log(f"bench: last lines of the server log:\n{tail}")
            shutil.rmtree(log_dir, ignore_errors=True)
    limit = f"{args.seconds:g} s" + (
        f" or {args.max_requests} requests" if args.max_requests < HARD_MAX_REQUESTS else ""
    )
    print(
        f"\n### {database}: one server process{' and an outbox worker' if worker else ''}, "
        f"concurrency {args.concurrency}, {limit} per "
        f"scenario after {args.warmup:g} s warm-up, {fixture.seeded_bookings} seeded bookings, "
        f"{os.cpu_count()} CPUs shared by client, server and database\n"
    )
    print(markdown_table(results))
    if args.json:
        args.json.write_text(json.dumps([r.summary() for r in results], indent=2) + "\n")
        log(f"bench: wrote {args.json}")
    return 1 if any(r.errors for r in results) else 0


# ---------------------------------------------------------------------------------------
# explain mode (PostgreSQL)
# ---------------------------------------------------------------------------------------

EXPLAIN_PROBE_TIME = "19:00"
EXPLAIN_PARTY = 4


async def seed_explain(conn: Any, n: int, *, years: float, start: datetime, order: str) -> str:
    """N confirmed bookings with generate_series, round-robin over the tables: table k mod T
    gets its j-th booking at start + j * spacing, shorter than spacing, so none overlap."""
    from sqlalchemy import text

    tables = [row[0] for row in await conn.execute(text("SELECT id FROM tables ORDER BY id"))]
    per_table = math.ceil(n / len(tables))
    spacing_min = max(2, int(years * 365.25 * 24 * 60 // per_table))
    duration_min = min(90, spacing_min - 1)
    ids = ",".join(str(int(t)) for t in tables)
    sort = "random()" if order == "random" else "k"
    # DELETE, not TRUNCATE: other tables reference bookings (and CASCADE would empty them).
    await conn.execute(text("DELETE FROM bookings"))
    started = time.perf_counter()
    # Building the indexes and the exclusion constraint once after the insert is much faster
    # than maintaining them row by row; their definitions are read back from the catalog and
    # re-created as they were (re-adding the constraint also proves no two bookings overlap).
    constraints = (
        await conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'bookings'::regclass AND contype = 'x'"
            )
        )
    ).all()
    indexes = (
        await conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = 'bookings'::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            )
        )
    ).all()
    await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    await conn.execute(text("SET LOCAL work_mem = '256MB'"))
    for name, _ in constraints:
        await conn.execute(text(f'ALTER TABLE bookings DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        await conn.execute(text(f'DROP INDEX "{name}"'))
    await conn.execute(
        text(
            "INSERT INTO bookings (user_id, table_id, party_size, starts_at, ends_at, status,"
            " created_at, updated_at) "
            "SELECT NULL, (ARRAY[" + ids + "])[1 + k % CAST(:t AS int)], 2 + k % 3, "
            "CAST(:start AS timestamptz) + k / CAST(:t AS int) * make_interval(mins => :every), "
            "CAST(:start AS timestamptz) + k / CAST(:t AS int) * make_interval(mins => :every)"
            " + make_interval(mins => :duration), "
            "'confirmed', now(), now() "
            "FROM generate_series(0, CAST(:n AS int) - 1) AS k ORDER BY " + sort
        ),
        {"t": len(tables), "start": start, "every": spacing_min, "duration": duration_min,
         "n": n},
    )  # fmt: skip
    inserted = time.perf_counter()
    for _, definition in indexes:
        await conn.execute(text(definition))
    for name, definition in constraints:
        await conn.execute(text(f'ALTER TABLE bookings ADD CONSTRAINT "{name}" {definition}'))
    took = time.perf_counter() - started
    return (
        f"{n:,} bookings over {years:g} years from {start:%Y-%m-%d}: {len(tables)} tables, "
        f"one every {spacing_min} min per table, {duration_min} min each, inserted in "
        f"{'random' if order == 'random' else 'start-time'} order ({took:.1f} s: insert "
        f"{inserted - started:.1f} s, indexes and constraint {took - inserted + started:.1f} s)"
    )


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    return "'" + str(value).replace("'", "''") + "'"


def _walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


@dataclass
class ExplainRow:
    query: str
    probe: str
    size: int
    custom: PlanInfo
    sixth: PlanInfo
    generic: PlanInfo


async def _explain(conn: Any, sql: str, params: Any) -> tuple[str, dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) as text (to print) and as JSON (to count), warm cache."""
    await conn.exec_driver_sql(sql, params)  # warm the cache: count buffers, not disk reads
    text_rows = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan_text = "\n".join(row[0] for row in text_rows)
    raw = (
        await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    ).scalar()
    data = raw if isinstance(raw, list) else json.loads(raw)
    return plan_text, data[0]


def _plan_nodes(plan: dict[str, Any]) -> str:
    parts = []
    for node in _walk(plan):
        kind = node["Node Type"]
        if "Index Name" in node:
            parts.append(f"{kind} using {node['Index Name']}")
        elif kind in ("Seq Scan", "Bitmap Heap Scan"):
            parts.append(f"{kind} on {node.get('Relation Name', '?')}")
    return "; ".join(dict.fromkeys(parts)) or plan["Node Type"]


@dataclass
class PlanInfo:
    nodes: str
    rows: int
    hit: int
    read: int
    ms: float
    text: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any], text: str = "") -> PlanInfo:
        plan = data["Plan"]
        return cls(
            nodes=_plan_nodes(plan),
            rows=int(plan.get("Actual Rows", 0)),
            hit=int(plan.get("Shared Hit Blocks", 0)),
            read=int(plan.get("Shared Read Blocks", 0)),
            ms=float(data.get("Execution Time", 0.0)),
            text=text,
        )

    @property
    def buffers(self) -> str:
        return f"{self.hit + self.read} ({self.hit} hit, {self.read} read)"


async def _prepared_plans(conn: Any, sql: str, params: Sequence[Any]) -> tuple[PlanInfo, PlanInfo]:
    """asyncpg prepares every statement and the app reuses it, so after five executions
    PostgreSQL may switch to a generic plan (plan_cache_mode = auto). Returns the plan of the
    sixth execution under auto, and the forced generic plan."""
    from sqlalchemy import text

    args = "(" + ", ".join(_literal(p) for p in params) + ")"
    plans = []
    for mode in ("auto", "force_generic_plan"):
        await conn.execute(text(f"SET plan_cache_mode = {mode}"))
        await conn.exec_driver_sql("PREPARE bench_prepared AS " + sql)
        try:
            if mode == "auto":
                for _ in range(5):
                    await conn.exec_driver_sql("EXECUTE bench_prepared" + args)
            explain = "EXPLAIN (ANALYZE, BUFFERS{}) EXECUTE bench_prepared" + args
            rows = await conn.exec_driver_sql(explain.format(""))
            plan_text = "\n".join(row[0] for row in rows)
            raw = (await conn.exec_driver_sql(explain.format(", FORMAT JSON"))).scalar()
        finally:
            await conn.exec_driver_sql("DEALLOCATE bench_prepared")
            await conn.execute(text("RESET plan_cache_mode"))
        plans.append(PlanInfo.from_json((raw if isinstance(raw, list) else json.loads(raw))[0],
                                        plan_text))  # fmt: skip
    return plans[0], plans[1]


def probe_slot(venue: Any, day: date, hhmm: str, party_size: int) -> Any:
    """The venue's slot at `hhmm` local on `day` for the party, or None if it has none."""
    wanted = tuple(map(int, hhmm.split(":")))
    return next(
        (s for s in venue.slots(day, party_size)
         if (s.local_time.hour, s.local_time.minute) == wanted),
        None,
    )  # fmt: skip


async def capture_app_queries(
    database: Any, day: date, hhmm: str, party_size: int
) -> list[tuple[str, str, Any]]:
    """Run the app's own availability functions for one slot; return (label, sql, params)
    of every statement they sent, exactly as the driver received it."""

    from sqlalchemy import event

    from app.bookings import availability
    from app.bookings.statements import free_tables_at
    from app.db.base import utcnow
    from app.db.statements import session_conn
    from app.venue import service as venue_service

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    out: list[tuple[str, str, Any]] = []
    try:
        async with database.reader() as session:
            venue = await venue_service.venue_for(session)
            slot = probe_slot(venue, day, hhmm, party_size)
            if slot is None:
                raise SystemExit(f"bench: {day} has no {hhmm} slot for a party of {party_size}")
            # The app's Query objects run through SQLAlchemy Core here (the same SQL as the
            # server sends straight to asyncpg), so the cursor events see them.
            conn = await session_conn(session)
            captured.clear()
            # What GET /bookings/availability runs to find alternatives (and the day view).
            await availability.day_plan(conn, venue, day, party_size, utcnow())
            out += [("day_plan", sql, params) for sql, params in captured]
            # What a slot check and POST /bookings run to pick a table (the booking's
            # checked insert uses the same NOT EXISTS overlap lookup).
            captured.clear()
            await free_tables_at(conn, party_size, slot.starts_at, slot.ends_at)
            out += [("free_tables_at", sql, params) for sql, params in captured]
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    return out


def _auto_explained(message: str) -> tuple[str, PlanInfo] | None:
    """(query text, plan) of one auto_explain notice in JSON format."""
    head, sep, body = message.partition("plan:")
    if not sep:
        return None
    data = json.loads(body)
    ms = float(re.search(r"duration: ([0-9.]+) ms", head).group(1))  # type: ignore[union-attr]
    info = PlanInfo.from_json({"Plan": data["Plan"], "Execution Time": ms})
    info.text = json.dumps(data["Plan"], indent=1)
    return data.get("Query Text", ""), info


# The statements of book_table (migration 0009) worth showing, by how their text starts.
BOOK_TABLE_STATEMENTS = {
    "book_table: free fitting tables": "SELECT t.id, t.table_number FROM tables t",
    "book_table: checked insert": "INSERT INTO bookings",
}


async def book_table_plans(database: Any, day: date, hhmm: str, party_size: int) -> list[
    tuple[str, PlanInfo, PlanInfo, PlanInfo]
]:  # fmt: skip
    """The plans of the statements inside one POST /bookings on PostgreSQL: the app's own
    book_table call (app.bookings.statements.BOOK_TABLE), run in a transaction that is
    rolled back, with auto_explain reporting the nested statements' plans (ANALYZE,
    BUFFERS). plpgsql keeps a plan per session: the 1st call (in a new session) plans for
    its values, the 6th may use the generic plan; then the generic plan is forced. Returns
    (label, 1st, 6th, forced generic) per statement, or nothing (and says why) where
    auto_explain cannot be loaded or the call fails."""
    from app.bookings.statements import BOOK_TABLE, book_table_params
    from app.db.base import utcnow
    from app.db.statements import NativeConn
    from app.venue import service as venue_service

    async with database.reader() as session:
        venue = await venue_service.venue_for(session)
    slot = probe_slot(venue, day, hhmm, party_size)
    if slot is None:
        print(f"\n(book_table plans not shown: {day} has no {hhmm} slot for {party_size})")
        return []
    notices: list[str] = []
    runs: list[dict[str, PlanInfo]] = []
    async with database.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        raw.add_log_listener(lambda _c, message: notices.append(message.message))
        try:
            try:
                await raw.execute("LOAD 'auto_explain'")
                for setting in ("log_min_duration = 0", "log_analyze = on", "log_buffers = on",
                                "log_nested_statements = on", "log_format = json",
                                "log_level = notice"):  # fmt: skip
                    await raw.execute(f"SET auto_explain.{setting}")
            except Exception as exc:  # not a superuser, or no auto_explain: say so, go on
                print(f"\n(book_table plans not shown: {type(exc).__name__}: {exc})")
                return []
            native = NativeConn(raw, database.engine.dialect, database.cache_key)
            for run in range(7):
                if run == 6:
                    await raw.execute("SET plan_cache_mode = force_generic_plan")
                # The earlier runs' rolled-back rows would be read as dead index entries.
                await raw.execute("VACUUM bookings, users")
                transaction = raw.transaction()
                await transaction.start()
                try:
                    user_id = await raw.fetchval(
                        "INSERT INTO users (email, name, hashed_password, role, is_active, "
                        "created_at) VALUES ('explain@example.com', 'Explain', 'x', "
                        "'customer', true, now()) RETURNING id"
                    )
                    notices.clear()
                    params = book_table_params(
                        user_id=user_id, slot=slot, day=day, party_size=party_size,
                        table_id=None, special_requests=None, now=utcnow(),
                    )  # fmt: skip
                    await native.fetchrow(BOOK_TABLE, params)
                except Exception as exc:  # report it, keep the rest of --explain
                    print(f"\n(book_table plans not shown: call {run + 1} failed: {exc})")
                    return []
                finally:
                    await transaction.rollback()
                plans = {}
                for message in notices:
                    parsed = _auto_explained(message)
                    if parsed is None:
                        continue
                    query_text, info = parsed
                    for label, start in BOOK_TABLE_STATEMENTS.items():
                        if " ".join(query_text.split()).startswith(start):
                            plans[label] = info
                runs.append(plans)
        finally:
            await conn.invalidate()  # LOADed and SET: never back into the pool
    first, sixth, generic = runs[0], runs[5], runs[6]
    return [
        (label, first[label], sixth[label], generic[label])
        for label in BOOK_TABLE_STATEMENTS
        if label in first and label in sixth and label in generic
    ]


async def explain_mode_async(url: str, args: argparse.Namespace) -> list[ExplainRow]:
    from sqlalchemy import text

    from app.db.base import utcnow
    from app.db.engine import Database
    from app.venue import service as venue_service

    database = Database.from_url(url)
    rows: list[ExplainRow] = []
    try:
        async with database.reader() as session:
            venue = await venue_service.venue_for(session)
        today = venue.today(utcnow())
        # Data from four years ago to a year ahead; probe a day a month ahead (inside the
        # data) and a day after the data ends (nothing near it: pure index descent).
        start = datetime.combine(today - timedelta(days=round(365.25 * (args.explain_years - 1))),
                                 datetime.min.time(), UTC)  # fmt: skip
        data_end = start + timedelta(days=365.25 * args.explain_years)
        probes = {
            "busy day (in the data)": today + timedelta(days=30),
            "quiet day (after the data)": data_end.date() + timedelta(days=7),
        }
        shown_sql: set[str] = set()
        for size in args.explain_sizes:
            async with database.engine.begin() as conn:
                description = await seed_explain(
                    conn, size, years=args.explain_years, start=start, order=args.explain_order
                )
            async with database.engine.connect() as conn:
                ac = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await ac.exec_driver_sql("VACUUM ANALYZE bookings")
                sizes = (await ac.execute(text(
                    "SELECT pg_relation_size('bookings') / 8192, "
                    "pg_relation_size('ix_bookings_table_id_starts_at') / 8192, "
                    "(SELECT count(*) FROM bookings)"
                ))).one()  # fmt: skip
            print(f"\n{'=' * 100}\n{description}")
            print(
                f"bookings: {sizes[2]:,} rows, heap {sizes[0]:,} pages, "
                f"ix_bookings_table_id_starts_at {sizes[1]:,} pages (8 kB each)"
            )
            for probe, day in probes.items():
                queries = await capture_app_queries(
                    database, day, EXPLAIN_PROBE_TIME, EXPLAIN_PARTY
                )
                print(
                    f"\n--- {probe}: {day} {EXPLAIN_PROBE_TIME} local, party of {EXPLAIN_PARTY}"
                    f" ({size:,} bookings) ---"
                )
                async with database.engine.connect() as conn:
                    for label, sql, params in queries:
                        plan_text, data = await _explain(conn, sql, params)
                        custom = PlanInfo.from_json(data, plan_text)
                        sixth, generic = await _prepared_plans(conn, sql, params)
                        if label not in shown_sql:
                            shown_sql.add(label)
                            print(f"\n[{label}] SQL as sent by the app (asyncpg):\n{sql}")
                            print(f"parameters: {list(params)}")
                        print(f"\n[{label}] EXPLAIN (ANALYZE, BUFFERS):\n{plan_text}")
                        for name, other in (("6th run of the prepared statement", sixth),
                                            ("forced generic plan", generic)):  # fmt: skip
                            if other.nodes == custom.nodes:
                                print(f"[{label}] {name}: same plan, buffers {other.buffers}")
                            else:
                                print(f"[{label}] {name}: DIFFERENT plan:\n{other.text}")
                        rows.append(ExplainRow(label, probe, size, custom, sixth, generic))
                    await conn.rollback()
                for label, custom, sixth, generic in await book_table_plans(
                    database, day, EXPLAIN_PROBE_TIME, EXPLAIN_PARTY
                ):
                    print(f"\n[{label}] (auto_explain, 1st call) {custom.nodes}, "
                          f"buffers {custom.buffers}, {custom.ms:.3f} ms")  # fmt: skip
                    for name, other in (("6th call", sixth), ("forced generic plan", generic)):
                        same = "same plan" if other.nodes == custom.nodes else other.nodes
                        print(f"[{label}] {name}: {same}, buffers {other.buffers}")
                    rows.append(ExplainRow(label, probe, size, custom, sixth, generic))
    finally:
        await database.dispose()
    return rows


def explain_mode(args: argparse.Namespace) -> int:
    if args.database == "sqlite":
        raise SystemExit("bench: --explain needs PostgreSQL (--database postgres)")
    with scratch_database("postgres", args.postgres_url, args.scratch_db) as url:
        migrate(url)
        rows = asyncio.run(explain_mode_async(url, args))
    print(f"\n{'=' * 100}\n### EXPLAIN (ANALYZE, BUFFERS) summary (warm cache, 8 kB buffers)\n")
    print(
        "| Query | Probe | Bookings | Plan | Rows | Buffers | Exec ms "
        "| 6th prepared run: buffers | Forced generic: plan, buffers |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        c = r.custom
        sixth = r.sixth.buffers + ("" if r.sixth.nodes == c.nodes else f" ({r.sixth.nodes})")
        generic = ("same, " if r.generic.nodes == c.nodes else r.generic.nodes + ", ") + (
            r.generic.buffers
        )
        print(
            f"| {r.query} | {r.probe} | {r.size:,} | {c.nodes} | {c.rows} | {c.hit + c.read} "
            f"| {c.ms:.3f} | {sixth} | {generic} |"
        )
    print(
        "\nbook_table rows (auto_explain inside the function): the plan columns are its 1st "
        "call in a new session (cold caches), its 6th call and a forced generic plan; Exec "
        "ms is auto_explain's duration of the statement."
    )
    return 0


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def _scenario_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SCENARIOS)}")
    return names


def _sizes(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected sizes like 1000,1000000") from exc
    if not values or min(values) < 20 or max(values) > 5_000_000:
        raise argparse.ArgumentTypeError("sizes must be between 20 and 5,000,000")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Load-test the booking engine against a server this script starts.",
    )
    p.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default=None,
        help="sqlite (default) or postgres (BENCH_POSTGRES_URL); --explain: postgres",
    )
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to make the scratch database on (default: BENCH_POSTGRES_URL "
        f"or {DEFAULT_POSTGRES_URL})",
    )
    p.add_argument(
        "--scratch-db",
        default="restaurant_bench",
        help="name of the scratch PostgreSQL database, created and dropped",
    )
    p.add_argument("--concurrency", type=int, default=32, help="connections (workers)")
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help=f"seconds per scenario (default 10; {HARD_MAX_SECONDS:g} at most "
        "when only --requests is given)",
    )
    p.add_argument(
        "--requests",
        type=int,
        default=None,
        help=f"requests per scenario at most (default {HARD_MAX_REQUESTS:,})",
    )
    p.add_argument(
        "--scenarios",
        type=_scenario_list,
        default=["availability", "booking"],
        help=f"comma-separated, from {', '.join(SCENARIOS)} (default availability,booking)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of unmeasured warm-up before each scenario (default 1)",
    )
    p.add_argument(
        "--warmup-requests", type=int, default=1000, help="warm-up requests at most (default 1000)"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    p.add_argument("--users", type=int, default=None, help="users (default: --concurrency)")
    p.add_argument(
        "--seed-bookings",
        type=int,
        default=10_000,
        help="bookings inserted before the run, on odd days (default 10000)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument(
        "--server-env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra server setting, e.g. DB_POOL_SIZE=32",
    )
    p.add_argument(
        "--outbox",
        choices=("auto", "worker", "in-process"),
        default="auto",
        help="who sends the e-mails: a `restaurant worker` process beside the server (as "
        "docker-compose.yml deploys it) or the server itself (as `make run`); auto: the "
        "worker on PostgreSQL, in-process on SQLite",
    )
    p.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="profile the server with py-spy during each scenario; raw profiles "
        "go to DIR and a summary is printed",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument(
        "--explain",
        action="store_true",
        help="PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) the availability queries "
        "on 1k and 1M bookings instead of the load test",
    )
    p.add_argument(
        "--explain-sizes",
        type=_sizes,
        default=[1_000, 1_000_000],
        help="bookings to seed for --explain (default 1000,1000000)",
    )
    p.add_argument(
        "--explain-years",
        type=float,
        default=5.0,
        help="years the seeded bookings span (default 5)",
    )
    p.add_argument(
        "--explain-order",
        choices=("time", "random"),
        default="time",
        help="heap order of seeded bookings: by start time (default) or random",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.concurrency < 1 or (args.requests is not None and args.requests < 1):
        raise SystemExit("bench: --concurrency and --requests must be positive")
    if args.duration is None:
        args.seconds = HARD_MAX_SECONDS if args.requests is not None else 10.0
    else:
        args.seconds = args.duration
    if args.seconds <= 0:
        raise SystemExit("bench: --duration must be positive")
    args.max_requests = args.requests if args.requests is not None else HARD_MAX_REQUESTS
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    os.chdir(PROJECT_ROOT)
    if args.explain:
        return explain_mode(args)
    return load_mode(args)


if __name__ == "__main__":
    sys.exit(main())
