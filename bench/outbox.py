"""After a booking scenario: wait (bounded) for the confirmation e-mails to drain and report
the backlog and what sending it cost."""

from __future__ import annotations

import asyncio
import time

from bench.machine import process_cpu_seconds

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
