"""Application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import apidocs, health, housekeeping, openapi, web
from app.auth.browser import router as browser_router
from app.auth.router import auth_router, users_router
from app.bookings import availability
from app.bookings.cache import DayCache, DayCacheListener
from app.bookings.cache.publisher import publisher
from app.bookings.manage_router import router as manage_router
from app.bookings.router import hot_router as hot_bookings_router
from app.bookings.router import router as bookings_router
from app.config import Settings, get_settings
from app.db.base import utcnow
from app.db.engine import Database
from app.errors import install_error_handlers
from app.floor.router import floor_router
from app.floor.router import router as tables_router
from app.guests.router import router as guests_router
from app.kitchen.router import router as kitchen_router
from app.menu.router import router as menu_router
from app.middleware import EdgeMiddleware
from app.notifications.dispatcher import OutboxDispatcher
from app.notifications.router import router as admin_outbox_router
from app.observability import RequestContextMiddleware, configure_logging
from app.orders.router import router as orders_router
from app.ratelimit import RateLimiter
from app.reports.router import router as reports_router
from app.venue.router import router as restaurant_router
from app.waitlist import sweep as waitlist_sweep
from app.waitlist.router import router as waitlist_router
from app.waitlist.staff_router import router as waitlist_staff_router
from app.webhooks.dispatcher import WebhookDispatcher
from app.webhooks.router import router as admin_webhooks_router

OPENAPI_TAGS = [
    {"name": "auth", "description": "Sign up, log in, refresh and log out"},
    {"name": "users", "description": "Accounts; listing and managing users is admin-only"},
    {"name": "bookings", "description": "Availability and table reservations"},
    {
        "name": "waitlist",
        "description": "Waiting for a table: guests' entries and offers, "
        "and the staff's list (walk-ins too)",
    },
    {"name": "restaurant", "description": "Opening hours, booking rules and other settings"},
    {
        "name": "tables",
        "description": "Tables and seats: status, seating, merging, the floor's live stream "
        "(staff; admin edits)",
    },
    {
        "name": "guests",
        "description": "The guest book: who is coming, their history and notes (staff)",
    },
    {"name": "menu", "description": "The menu (public reads, admin edits)"},
    {"name": "orders", "description": "Orders, bills and splits (staff)"},
    {"name": "kitchen", "description": "The kitchen queue and its live stream (staff)"},
    {"name": "reports", "description": "The manager's figures, from the database (admin)"},
    {"name": "admin", "description": "Operations: the e-mail outbox and webhooks (admin)"},
    {"name": "health", "description": "Liveness and readiness probes"},
]


WARM_WAIT_SECONDS = 10.0


def tune_garbage_collector() -> None:
    """Everything built at start-up lives as long as the process: keep it out of the
    collector's passes (gc.freeze), and collect the young generation less often. Each
    request allocates many short-lived objects; with the default threshold (700) the
    collector runs so often that it sets the tail latency (docs/performance.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    owns_database = database is None
    database = database or Database.from_url(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        if settings.outbox_in_process:
            dispatcher = OutboxDispatcher(database, settings, clock=lambda: app.state.clock())
            tasks.append(asyncio.create_task(dispatcher.run(stop), name="outbox"))
            tasks.append(asyncio.create_task(housekeeping.run(database, stop), name="housekeeping"))
            hooks = WebhookDispatcher(database, settings, clock=lambda: app.state.clock())
            tasks.append(asyncio.create_task(hooks.run(stop), name="webhooks"))
            sweeping = waitlist_sweep.run(database, settings, stop, clock=lambda: app.state.clock())
            tasks.append(asyncio.create_task(sweeping, name="waitlist"))
        days: DayCache = app.state.day_cache
        if settings.availability_cache and not database.is_sqlite:
            listener = DayCacheListener(
                database.driver_connection,
                days,
                warm=lambda: availability.warm(database, days, now=lambda: app.state.clock()),
            )
            tasks.append(asyncio.create_task(listener.run(stop), name="availability-listener"))
            database.after_write.append(days.clear)
            # Serve with the days ahead in memory, unless reading them takes too long.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.started.wait(), timeout=WARM_WAIT_SECONDS)
        if settings.gc_tuning:  # after the warm-up: what it read lives long too
            tune_garbage_collector()
        try:
            yield
        finally:
            stop.set()
            if app.state.changes is not None:
                await app.state.changes.close()
            if days.clear in database.after_write:
                database.after_write.remove(days.clear)
            for task in tasks:
                try:
                    await asyncio.wait_for(task, timeout=10)
                except TimeoutError:
                    task.cancel()
            if owns_database:
                await database.dispose()

    app = FastAPI(
        # FastAPI's built-in OpenTelemetry bridge looks the global providers up on every
        # request, a measurable share of the availability check's CPU; we configure none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="Restaurant service",
        version="0.1.0",
        summary="Table reservations, floor, orders and kitchen for one restaurant",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        # The reference pages are served from this service (app.apidocs), not a CDN;
        # API_DOCS=false turns them and the OpenAPI document off.
        openapi_url="/openapi.json" if settings.api_docs else None,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.limiter = RateLimiter(settings)
    app.state.day_cache = DayCache()
    app.state.changes = None if database.is_sqlite else publisher(database)
    app.state.clock = utcnow

    install_error_handlers(app)
    openapi.install(app)
    if settings.api_docs:
        apidocs.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            # A wildcard origin never comes with credentials (the browser's cookies).
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)
    # Outermost: its headers go on every answer, CORS preflights and last-resort 500s too.
    app.add_middleware(EdgeMiddleware, routes=app.router.routes, limit=settings.max_body_bytes)

    # Routes are matched in order: the booking routes (the busiest) come first. The two
    # hottest are the app's own routes rather than an included router's, which FastAPI
    # matches in a second pass, a cost paid on every request.
    app.router.routes[:0] = hot_bookings_router.routes  # before even the docs routes
    app.include_router(bookings_router)
    app.include_router(manage_router)
    app.include_router(waitlist_router)
    app.include_router(waitlist_staff_router)
    app.include_router(health.router)
    app.include_router(auth_router)
    app.include_router(browser_router)
    app.include_router(users_router)
    app.include_router(restaurant_router)
    app.include_router(tables_router)
    app.include_router(floor_router)
    app.include_router(guests_router)
    app.include_router(menu_router)
    app.include_router(orders_router)
    app.include_router(kitchen_router)
    app.include_router(reports_router)
    app.include_router(admin_outbox_router)
    app.include_router(admin_webhooks_router)
    web.install(app, settings)  # last: its pages and files never stand before an API route
    return app


def __getattr__(name: str) -> FastAPI:
    """`uvicorn app.main:app` builds the app from settings on demand."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
