from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from sqlalchemy import text

from app import metrics
from app.config import Settings
from app.db.engine import Database
from app.errors import Forbidden, Unauthorized
from app.notifications.dispatcher import last_heartbeat
from app.ratelimit import RateLimiter, client_address

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    """`status` is "ok" while this process can serve; each dependency says how it is."""

    status: str = Field(description='"ok", or "unavailable" (only when the database is down)')
    database: str = Field(description='"up" or "down"')
    rate_limits: str = Field(
        description='"memory" (per process, as configured), "up" (shared through Redis) or '
        '"away" (Redis unreachable: counted per process until it is back)'
    )
    email: str = Field(
        description='"up" (a dispatcher has been seen working lately), "stale" (not for a '
        'while: is `restaurant worker` running?), "none" (never seen) or "unknown" (the '
        "database is down)"
    )


@router.get("/health", response_model=Health, summary="Liveness: the process is up", name="live")
async def health() -> Health:
    return Health(status="ok")


LOOPBACK = {"127.0.0.1", "::1"}


async def _email_state(request: Request, settings: Settings) -> str:
    fresh = timedelta(seconds=settings.outbox_lease_seconds + 2 * settings.outbox_poll_seconds)
    try:
        beat = await last_heartbeat(request.app.state.db)
    except Exception:  # e.g. a database not migrated yet
        return "unknown"
    if beat is None:
        return "none"
    return "up" if request.app.state.clock() - beat <= fresh else "stale"


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus metrics. With METRICS_TOKEN set, for a scraper that sends it as a
    bearer token; without it, only to clients on this machine (loopback), and never in
    production, where a proxy on the same host would make every client look local."""
    settings: Settings = request.app.state.settings
    if settings.environment == "production" and not settings.metrics_token:
        raise Forbidden("Set METRICS_TOKEN to serve metrics in production")
    if settings.metrics_token:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(sent.encode(), settings.metrics_token.encode()):
            raise Unauthorized("Send the metrics token as a bearer token")
    elif client_address(request) not in LOOPBACK:
        raise Forbidden("Metrics are served to this machine only, unless METRICS_TOKEN is set")
    body = await metrics.render(request.app.state.db, request.app.state.clock())
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: each dependency's state; 503 only when the database is down",
    responses={503: {"model": Readiness, "description": "The database is unreachable"}},
)
async def ready(request: Request) -> JSONResponse:
    database: Database = request.app.state.db
    limiter: RateLimiter = request.app.state.limiter
    settings: Settings = request.app.state.settings
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database_state = "up"
    except Exception:  # any failure to reach the database means "not ready"
        database_state = "down"
    email = await _email_state(request, settings) if database_state == "up" else "unknown"
    answer = Readiness(
        status="ok" if database_state == "up" else "unavailable",
        database=database_state,
        rate_limits=limiter.storage_status,
        email=email,
    )
    return JSONResponse(answer.model_dump(), status_code=200 if database_state == "up" else 503)
