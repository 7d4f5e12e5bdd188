"""Real servers on local ports, for what a test cannot see through ASGITransport (which
buffers whole responses): the app served by uvicorn, and Server-Sent Events read from it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

FAST_STREAM = [{"stream_poll_seconds": 0.05}]  # settings_overrides for stream tests
STREAM_TIMEOUT = 10.0  # seconds to wait for the events a test expects


def free_port() -> int:
    """A local TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free local port (ASGITransport buffers whole
    responses, so a stream must be read over a real socket)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # startup failed: raise its error
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class EventReader:
    """Reads Server-Sent Events from an open streaming response, one line iterator for
    the whole response (httpx lets a body be iterated once)."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.aiter_lines()

    async def next(self, count: int = 1) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        current: dict[str, Any] = {}
        async with asyncio.timeout(STREAM_TIMEOUT):
            async for text in self._lines:
                if not text:
                    if "data" in current:
                        current["data"] = json.loads(current["data"])
                        events.append(current)
                        if len(events) == count:
                            return events
                    current = {}
                    continue
                if text.startswith(":"):  # a comment (keep-alive ping)
                    continue
                field, _, value = text.partition(":")
                value = value.removeprefix(" ")
                current[field] = current[field] + "\n" + value if field in current else value
        raise AssertionError(f"the stream ended after {len(events)} of {count} events")
