"""The worker class `make prod` and the Docker image give gunicorn: uvicorn's (from the
maintained uvicorn-worker package), trusting X-Forwarded-* only from
FORWARDED_ALLOW_IPS, and without a `server: uvicorn` banner on every answer."""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        "proxy_headers": True,
    }
