"""What arrives at the edge of the service: unreadable bodies, oversized bodies, the wrong
content type, paths without their slash, and methods a path does not take. Each is a 4xx
that says what to do, never a 500."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.platform.services import ServiceProcess

DEEP = ("[" * 5000 + "]" * 5000).encode()
NOT_UTF8 = b'{"email": "\xff\xfe@example.com", "password": "x"}'
UNREADABLE = "could not be read as JSON"


@pytest.mark.parametrize("path", ["/bookings", "/auth/login", "/api/orders"])
@pytest.mark.parametrize("body", [NOT_UTF8, DEEP], ids=["not-utf8", "nested-5000-deep"])
async def test_an_unreadable_body_is_a_400_on_every_kind_of_route(
    client: httpx.AsyncClient, staff: dict[str, str], path: str, body: bytes
) -> None:
    headers = {**staff, "Content-Type": "application/json"}
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert UNREADABLE in response.json()["detail"]


async def test_a_body_over_the_limit_is_refused_with_413(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    declared = await client.post("/auth/login", content=big,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert declared.status_code == 413
    assert "larger than the 1,048,576 bytes" in declared.json()["detail"]
    assert declared.headers["content-type"] == "application/json"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(40):
            yield b"a" * 65536

    streamed = await client.post("/api/orders", content=chunks(),
                                 headers={**staff, "Content-Type": "application/json"})  # fmt: skip
    assert streamed.status_code == 413
    just_under = await client.post("/auth/login", json={"email": "a@example.com",
                                                        "password": "x" * 1000})  # fmt: skip
    assert just_under.status_code == 401  # an ordinary body is read as before


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _upload(port: int, size: int, chunked: bool) -> bytes:
    """Send a POST /auth/login of `size` bytes (declared, or chunked) until the server
    answers or closes; return what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
        sock.sendall(b"POST /auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     + framing + b"\r\n\r\n")  # fmt: skip
        piece = b"a" * 65536
        frame = (b"10000\r\n" + piece + b"\r\n") if chunked else piece
        sent = 0
        try:
            while sent < size:
                sock.sendall(frame)
                sent += len(piece)
        except OSError:  # the server answered and closed: it read no further
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
async def test_concurrent_huge_uploads_do_not_grow_the_process(tmp_path: Path) -> None:
    """Eight 100 MB logins at once, declared and chunked: each is refused with 413 and the
    server process grows by a few MB at most (it read none of them whole). The limit
    comes before any database work: an empty SQLite file will do."""
    env = {"ENVIRONMENT": "test", "SECRET_KEY": TEST_SECRET, "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}  # fmt: skip
    service = ServiceProcess(env)
    try:
        service.wait_ready("/health")
        pid = service.process.pid
        before = _rss_kb(pid)
        started = time.monotonic()
        answers = await asyncio.gather(
            *(asyncio.to_thread(_upload, service.port, 100 * 1024 * 1024, i % 2 == 1)
              for i in range(8))
        )  # fmt: skip
        assert time.monotonic() - started < 60
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        grown_mb = (_rss_kb(pid) - before) / 1024
        assert grown_mb < 40, f"the server grew by {grown_mb:.0f} MB"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{service.base}/health")).status_code == 200
    finally:
        service.stop()


async def test_the_wrong_content_type_says_to_send_json(client: httpx.AsyncClient) -> None:
    form = await client.post("/auth/login", data={"email": "a@example.com", "password": "x"})
    assert form.status_code == 422
    assert "Content-Type: application/json" in form.json()["detail"]
    broken = await client.post("/auth/login", content=b'{"email": "a@example.com",, }',
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 422
    assert "not valid JSON" in broken.json()["detail"]
    assert "at character 26" in broken.json()["detail"]


async def test_paths_answer_with_or_without_their_trailing_slash(
    client: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str]
) -> None:
    for path in ("/api/tables/occupied", "/api/tables/available?party_size=2"):
        plain = await client.get(path, headers=staff)
        slashed = await client.get(path.replace("?", "/?") if "?" in path else path + "/",
                                   headers=staff)  # fmt: skip
        assert plain.status_code == slashed.status_code == 200, plain.text
        assert plain.json() == slashed.json()
    users = await client.get("/users", headers=admin)
    assert (
        users.status_code == 200
        and users.json() == (await client.get("/users/", headers=admin)).json()
    )


async def test_options_lists_every_method_and_a_405_does_too(client: httpx.AsyncClient) -> None:
    options = await client.options("/bookings")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, OPTIONS, POST"
    put = await client.put("/bookings", json={})
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, OPTIONS, POST"
    assert put.json()["detail"] == "Method Not Allowed"
    one = await client.options("/bookings/1")
    assert one.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    assert (await client.options("/no/such/path")).status_code == 404
