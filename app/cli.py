"""The `restaurant` command: serve, migrate, seed-demo, create-admin, worker, openapi."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db.engine import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    ini = PROJECT_ROOT / "alembic.ini"
    if not ini.exists():
        ini = Path.cwd() / "alembic.ini"
    config = Config(str(ini))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


async def _in_transaction(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    database = Database.from_url(settings.database_url)
    try:
        async with database.writer() as session, session.begin():
            await work(session)
    finally:
        await database.dispose()


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        proxy_headers=True,
        server_header=False,  # no "server: uvicorn" banner
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0


def _cmd_migrate(_args: argparse.Namespace, _settings: Settings) -> int:
    migrate()
    return 0


def _cmd_seed_demo(_args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import seed

    asyncio.run(_in_transaction(settings, lambda s: seed.seed_demo(s, settings=settings)))
    return 0


def _cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from app.auth import service
    from app.auth.schemas import UserCreate

    try:
        data = UserCreate(email=args.email, password=args.password, name=args.name)
    except ValidationError as exc:
        for err in exc.errors():
            print(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2

    async def work(session: AsyncSession) -> None:
        user, created = await service.create_admin(
            session, email=data.email, password=data.password, name=data.name, settings=settings
        )
        print(f"{'Created' if created else 'Promoted'} admin {user.email} (id {user.id})")

    asyncio.run(_in_transaction(settings, work))
    return 0


def _cmd_worker(_args: argparse.Namespace, settings: Settings) -> int:
    """Run the outbox dispatcher, the webhook dispatcher and housekeeping on their own
    (OUTBOX_IN_PROCESS=false on the web workers)."""
    import signal

    from app import housekeeping
    from app.notifications.dispatcher import OutboxDispatcher
    from app.notifications.pacing import CpuPacer
    from app.observability import configure_logging
    from app.waitlist import sweep as waitlist_sweep
    from app.webhooks.dispatcher import WebhookDispatcher

    configure_logging(settings.log_level)
    _lower_priority(settings.worker_nice)

    async def run() -> None:
        # The worker only keeps books (messages sent, old rows removed): its commits do
        # not wait for the WAL flush, so they do not queue behind bookings' commits. After
        # a database crash the last fraction of a second of them may be lost: a few
        # e-mails are sent again (delivery is at least once anyway).
        database = Database.from_url(settings.database_url, wait_for_flush=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            pacer = CpuPacer(settings.outbox_cpu_share)
            await asyncio.gather(
                OutboxDispatcher(database, settings, pacer=pacer).run(stop),
                WebhookDispatcher(database, settings).run(stop),
                housekeeping.run(database, stop),
                waitlist_sweep.run(database, settings, stop),
            )
        finally:
            await database.dispose()

    with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
        runner.run(run())
    return 0


def _cmd_worker_health(_args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when a dispatcher on this host has shown it is working lately (its
    heartbeat), else 1: the worker container's health check."""
    import socket
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.db.base import utcnow
    from app.notifications.models import WorkerHeartbeat

    fresh = timedelta(seconds=settings.outbox_lease_seconds + 2 * settings.outbox_poll_seconds)
    prefix = f"{socket.gethostname()}:"

    async def newest() -> object:
        database = Database.from_url(settings.database_url)
        try:
            async with database.engine.connect() as conn:
                return await conn.scalar(
                    select(func.max(WorkerHeartbeat.beat_at)).where(
                        WorkerHeartbeat.name.startswith(prefix)
                    )
                )
        finally:
            await database.dispose()

    try:
        beat = asyncio.run(newest())
    except Exception as exc:  # no database: not healthy
        print(f"worker: cannot read its heartbeat ({type(exc).__name__})", file=sys.stderr)
        return 1
    if beat is None or not isinstance(beat, datetime) or utcnow() - beat > fresh:
        print(f"worker: no heartbeat from {prefix}* in the last {fresh}", file=sys.stderr)
        return 1
    return 0


def preflight_problems(settings: Settings, workers: int) -> list[str]:
    """What stops `make prod` from being a production deployment, in words an operator
    can act on."""
    problems = []
    if settings.environment != "production":
        problems.append(
            f"ENVIRONMENT is {settings.environment!r}: set ENVIRONMENT=production (it also "
            "requires a strong SECRET_KEY)"
        )
    if settings.is_sqlite:
        problems.append(
            "DATABASE_URL is SQLite: production runs on PostgreSQL "
            "(DATABASE_URL=postgresql+asyncpg://user:password@host/db)"
        )
    if workers > 1 and settings.rate_limit_storage_url.startswith("memory"):
        problems.append(
            f"{workers} worker processes with RATE_LIMIT_STORAGE_URL=memory:// would each "
            "count their own limits: set RATE_LIMIT_STORAGE_URL=redis://..."
        )
    return problems


def _cmd_preflight(args: argparse.Namespace, settings: Settings) -> int:
    problems = preflight_problems(settings, args.workers)
    for problem in problems:
        print(f"preflight: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _lower_priority(increment: int) -> None:
    """Background work yields the CPU: where the worker shares cores with the web
    process and the database, a burst of bookings is answered first and its e-mails
    follow. A priority only ranks processes within one process group, so the worker
    also paces itself (app/notifications/pacing.py; measurements in
    docs/performance.md)."""
    if increment and hasattr(os, "nice"):
        niceness = os.nice(increment)
        logging.getLogger("app.outbox").info("worker niceness %s", niceness)


def _fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop, as uvicorn uses for the web workers, where it is installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    """The OpenAPI document as the service publishes it, for the web app's generated
    client (web/openapi.json): built from the code and the default settings, so the
    same code always writes the same document, whatever this machine's .env says."""
    import json

    from app.main import create_app

    quiet = Settings(_env_file=None, api_docs=True, log_level="ERROR")
    document = create_app(quiet).openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restaurant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server (uvicorn)")
    serve.add_argument("--host", default=None, help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--reload", action="store_true", help="reload on code changes (development)")
    serve.set_defaults(handler=_cmd_serve)

    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)").set_defaults(
        handler=_cmd_migrate
    )
    sub.add_parser("seed-demo", help="load demo data (idempotent)").set_defaults(
        handler=_cmd_seed_demo
    )

    sub.add_parser("worker", help="send queued e-mails (the outbox dispatcher)").set_defaults(
        handler=_cmd_worker
    )

    sub.add_parser(
        "worker-health", help="exit 0 if this host's e-mail worker is working (health check)"
    ).set_defaults(handler=_cmd_worker_health)

    preflight = sub.add_parser(
        "preflight", help="check the settings are fit for production (make prod runs it)"
    )
    preflight.add_argument("--workers", type=int, default=1, help="web worker processes")
    preflight.set_defaults(handler=_cmd_preflight)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document (for web/)")
    openapi.add_argument("--output", default="-", help="file to write (default: stdout)")
    openapi.set_defaults(handler=_cmd_openapi)

    admin = sub.add_parser("create-admin", help="create an admin, or promote an existing user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(handler=_cmd_create_admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
