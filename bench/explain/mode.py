"""--explain (PostgreSQL): seed 1k and 1M bookings, then show the plans of the app's own
statements for a busy and a quiet day, and a summary table."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.database import migrate, scratch_database
from bench.explain.plans import PlanInfo, explain_analyze, prepared_plans
from bench.explain.queries import book_table_plans, capture_app_queries
from bench.explain.seed import seed_explain

EXPLAIN_PROBE_TIME = "19:00"
EXPLAIN_PARTY = 4


@dataclass
class ExplainRow:
    query: str
    probe: str
    size: int
    custom: PlanInfo
    sixth: PlanInfo
    generic: PlanInfo


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
                        plan_text, data = await explain_analyze(conn, sql, params)
                        custom = PlanInfo.from_json(data, plan_text)
                        sixth, generic = await prepared_plans(conn, sql, params)
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
