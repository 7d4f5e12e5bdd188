"""The load loop: concurrent keep-alive workers until the time or the request budget is
spent, with the CPU readings taken around it."""

from __future__ import annotations

import asyncio
import time

from bench.client import HttpConnection
from bench.common import HOST
from bench.machine import (
    PgWatch,
    machine_cpu_seconds,
    machine_steal_seconds,
    process_cpu_seconds,
    process_sched_seconds,
)
from bench.results import Result
from bench.scenarios import Scenario

HARD_MAX_REQUESTS = 1_000_000  # per scenario, when --requests is not given
HARD_MAX_SECONDS = 300.0  # per scenario, when --duration is not given


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
