"""The command line of `python -m bench`: the options, and main, which runs the load test or
--explain."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from bench.common import PROJECT_ROOT
from bench.database import DEFAULT_POSTGRES_URL
from bench.explain.mode import explain_mode
from bench.load import HARD_MAX_REQUESTS, HARD_MAX_SECONDS
from bench.loadtest import load_mode
from bench.scenarios import SCENARIOS


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
        prog="python -m bench",
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
    p.add_argument(
        "--users", type=int, default=None, help="users (default: --concurrency, at least 1000)"
    )
    p.add_argument(
        "--seed-bookings",
        type=int,
        default=10_000,
        help="bookings inserted before the run, on odd days (default 10000)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument(
        "--engine",
        action="store_true",
        help="configure pacing on every service, two table combinations and tables of "
        "each channel (bench/fixture.py ENGINE_*) before the load",
    )
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
