from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.db.engine import Database
from app.ratelimit import RateLimiter

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


@router.get("/health", response_model=Health, summary="Liveness: the process is up", name="live")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: each dependency's state; 503 only when the database is down",
    responses={503: {"model": Readiness, "description": "The database is unreachable"}},
)
async def ready(request: Request) -> JSONResponse:
    database: Database = request.app.state.db
    limiter: RateLimiter = request.app.state.limiter
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database_state = "up"
    except Exception:  # any failure to reach the database means "not ready"
        database_state = "down"
    answer = Readiness(
        status="ok" if database_state == "up" else "unavailable",
        database=database_state,
        rate_limits=limiter.storage_status,
    )
    return JSONResponse(answer.model_dump(), status_code=200 if database_state == "up" else 503)
