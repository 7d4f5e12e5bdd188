"""Fixtures of the notification tests: a real SMTP server, the app's settings sending to
it, and a clock the app and the dispatchers share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.notifications.helpers import Clock, SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings_overrides(smtp: SmtpServer) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_timeout_seconds": 3,
        "outbox_backoff_seconds": 60,
        "outbox_max_attempts": 3,
        "mail_from": "Test Bistro <book@test.example>",
    }


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock()
    app.state.clock = clock
    return clock
