"""Request ids and the last-resort 500 handler (app/observability.py)."""

from __future__ import annotations

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_failed_commit_is_an_error_not_a_success(client: httpx.AsyncClient) -> None:
    """The commit runs before the response: if it fails, the client must not see 202."""

    def refuse(_session: Session) -> None:
        raise RuntimeError("commit refused by test")

    event.listen(Session, "before_commit", refuse)
    try:
        response = await client.post(
            "/auth/register",
            json={"email": "lost@example.com", "password": "correct-horse-9", "name": "Lost"},
        )
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "Internal server error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError" not in response.text and "Traceback" not in response.text
    retry = await client.post(
        "/auth/register",
        json={"email": "lost@example.com", "password": "correct-horse-9", "name": "Lost"},
    )
    assert retry.status_code == 202
    login = await client.post(
        "/auth/login", json={"email": "lost@example.com", "password": "correct-horse-9"}
    )
    assert login.status_code == 200  # the retry made the account: the first left nothing
