"""The webhook tests' set-up: a real HTTP receiver on loopback that keeps what it is
sent and answers what the test says (or is not there at all), a clock for the
dispatcher, and helpers for endpoints and deliveries."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.webhooks.dispatcher import WebhookDispatcher
from app.webhooks.models import WebhookEvent
from tests.conftest import TestDatabase
from tests.factories import Headers, Json
from tests.notifications.helpers import Clock
from tests.servers import free_port

ALL_EVENTS = [
    "booking.created", "booking.changed", "booking.cancelled", "booking.seated",
    "booking.no_show", "waitlist.offered",
]  # fmt: skip


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    """An HTTP server on 127.0.0.1 (http.server in a thread): keeps every POST and
    answers `status`; stop() takes it away (connections refused), start() brings it
    back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 204
        self.received: list[Received] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.accepted = threading.Event()  # set at the first 2xx answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver.status
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, body, status
                        )
                    )
                if 200 <= status < 300:
                    receiver.accepted.set()
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 300 else b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Received]:
        """What it accepted (2xx)."""
        return [r for r in self.received if 200 <= r.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "webhook_timeout_seconds": 2,
        "webhook_backoff_seconds": 10,
        "webhook_max_attempts": 3,
    }


@pytest.fixture
def hook_clock() -> Clock:
    """The dispatcher's clock (real time, moved on by tests to pass a backoff). The
    app's own clock is another: seating a party moves it days ahead, and signatures
    must stay within five minutes of the receiver's time."""
    return Clock()


@pytest.fixture
async def dispatcher(
    db: TestDatabase, settings: Settings, hook_clock: Clock
) -> AsyncIterator[WebhookDispatcher]:
    sender = WebhookDispatcher(db.database, settings, clock=hook_clock)
    try:
        yield sender
    finally:
        await sender.close()


async def register(
    client: httpx.AsyncClient,
    admin: Headers,
    url: str,
    events: list[str] | None = None,
    **extra: object,
) -> Json:
    body = {"url": url, "event_types": events or ALL_EVENTS, **extra}
    response = await client.post("/admin/webhooks", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def drain(dispatcher: WebhookDispatcher, rounds: int = 20) -> int:
    """Run the dispatcher until a round sends nothing; how many were attempted."""
    total = 0
    for _ in range(rounds):
        sent = await dispatcher.run_once()
        if not sent:
            return total
        total += sent
    raise AssertionError("the dispatcher was still sending after 20 rounds")


async def event_count(db: TestDatabase) -> int:
    async with db.database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)
