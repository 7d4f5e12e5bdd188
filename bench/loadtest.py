"""Load mode (the default): scratch database, fixture, server, the scenarios one after the
other, and the summary table."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import log
from bench.database import migrate, scratch_database
from bench.fixture import Fixture, prepare_load
from bench.load import HARD_MAX_REQUESTS, Counter_, run_load
from bench.machine import PgWatch, machine_cpu_seconds
from bench.outbox import outbox_report
from bench.pyspy import find_py_spy, start_py_spy, summarize_profile
from bench.results import Result, markdown_table, print_result
from bench.scenarios import Scenario, availability_scenario, booking_scenario, day_scenario
from bench.server import Server


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
                users=args.users or max(args.concurrency, 1000),
                seed_bookings=args.seed_bookings,
                engine=args.engine,
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
