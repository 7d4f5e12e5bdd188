"""A scenario's result: counts, latency percentiles, CPU shares; printed per scenario and
as the README's markdown table."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


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
