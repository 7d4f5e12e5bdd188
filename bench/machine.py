"""CPU readings from /proc (the machine, steal, a process, PostgreSQL backends) and PgWatch,
which samples what the scratch database's connections are doing during a run."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from pathlib import Path
from typing import Any


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
