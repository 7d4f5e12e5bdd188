"""The web app served by the service itself (app/web.py): its client routes answer the
app's page and never an API path, its hashed files are cached for good and nothing
outside the build is reachable, its pages may be framed only by FRAME_ANCESTORS, and
without a build the API works and the pages say how to make one."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.routing import compile_path
from starlette.types import Message

import app as app_package
from app.config import Settings
from app.main import create_app
from app.web import CLIENT_ROUTES
from tests.answers import recording
from tests.conftest import TestDatabase, make_settings

# What a browser sends when it navigates to a page.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}
INDEX = """<!doctype html>
<html lang="en">
  <head>
    <script type="module" crossorigin src="/assets/index-B4x9Qk2a.js"></script>
    <link rel="stylesheet" crossorigin href="/assets/index-Cq1zP0aa.css">
  </head>
  <body><div id="root"></div></body>
</html>
"""
ASSETS = {
    "index-B4x9Qk2a.js": (b"console.log('app')\n", "text/javascript; charset=utf-8"),
    "index-Cq1zP0aa.css": (b"body{margin:0}\n", "text/css; charset=utf-8"),
    "logo-D3adB33f.svg": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
    "inter-a1b2c3d4.woff2": (b"wOF2\x00\x01\x00\x00", "font/woff2"),
}
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'; frame-ancestors "
)
# A browser navigation to each client route (with what the app puts after it).
PAGES = [
    "/",
    "/manage/eyJhbGciOiJIUzI1NiJ9.eyJ0eXBlIjoibWFuYWdlIn0.c2lnbmF0dXJl",
    "/account",
    "/account/reset?token=abc",
    "/account/bookings/12",
    "/staff",
    "/staff/floor",
    "/staff/kitchen/stations/bar",
]
# Each API path prefix, and the content type its own answer to a browser has.
API = {
    "/bookings": "application/json",
    "/bookings/availability": "application/json",
    "/bookings/manage/some-token": "application/json",
    "/auth": "application/json",
    "/auth/session": "application/json",
    "/users": "application/json",
    "/users/me": "application/json",
    "/restaurant": "application/json",
    "/api": "application/json",
    "/api/menu": "application/json",
    "/api/tables": "application/json",
    "/admin": "application/json",
    "/admin/outbox": "application/json",
    "/health": "application/json",
    "/health/ready": "application/json",
    "/docs": "text/html",  # the API reference, not the app
    "/redoc": "text/html",
    "/openapi.json": "application/json",
    "/metrics": "text/plain",
}
# Unknown paths, some close to a client route's: the API's JSON 404, never the app
# (/assets is first sent on to /assets/, as any path a route matches with a slash added).
UNKNOWN = ["/nope", "/manage", "/manage/a/b", "/accounts", "/staffroom", "/index.html",
           "/assets", "/assets/", "/assets/missing-1234.js", "/favicon.ico"]  # fmt: skip


def write_build(dist: Path) -> Path:
    """A small build as `npm run build` leaves it: index.html, hashed assets and the
    files Vite copies from public/ (one named like an API path)."""
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    for name, (body, _) in ASSETS.items():
        (dist / "assets" / name).write_bytes(body)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (dist / "openapi.json").write_text('{"not": "the API document"}')
    return dist


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return write_build(tmp_path / "dist")


@pytest.fixture
def settings_overrides(dist: Path) -> dict[str, Any]:
    return {"web_dist_dir": str(dist)}


@asynccontextmanager
async def serving(db: TestDatabase, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(make_settings(db.url, **overrides), database=db.database)
    transport = httpx.ASGITransport(app=recording(application), client=("127.0.0.1", 50000))
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


def is_the_app(response: httpx.Response) -> bool:
    return '<div id="root">' in response.text


async def raw_get(app: FastAPI, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET with `path` exactly as an ASGI server would pass it on (decoded, with no dot
    segments removed, as a client sending %2e%2e or %2f gets)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["headers"], answer["body"]


async def test_every_client_route_answers_the_app(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        page = await client.get(path, headers=BROWSER)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8", path
        assert is_the_app(page) and page.text == INDEX, path
        assert page.headers["cache-control"] == "no-cache", path
        head = await client.head(path, headers=BROWSER)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == "text/html; charset=utf-8", path
        posted = await client.post(path, headers=BROWSER)
        assert posted.status_code == 405 and posted.headers["allow"] == "GET, OPTIONS", path


async def test_no_client_route_shadows_an_api_path(client: httpx.AsyncClient) -> None:
    """A browser going to any API path gets the API's own answer (JSON, or the API
    reference's page), never the app: each prefix, a path under it that does not exist,
    and every operation's path in the OpenAPI document."""
    for path, content_type in API.items():
        answer = await client.get(path, headers=BROWSER, follow_redirects=True)
        assert answer.headers["content-type"].startswith(content_type), path
        assert not is_the_app(answer), path
        unknown = await client.get(f"{path}/no-such-thing", headers=BROWSER)
        assert unknown.status_code >= 400, path
        assert unknown.headers["content-type"] == "application/json", path
    document = (await client.get("/openapi.json")).json()
    assert "not" not in document  # the build's openapi.json is not served
    client_patterns = [compile_path(route)[0] for route in CLIENT_ROUTES]
    for template in document["paths"]:
        path = re.sub(r"\{[^}]+\}", "1", template)
        assert not any(p.match(path) for p in client_patterns), template
        answer = await client.get(path, headers=BROWSER)
        assert not is_the_app(answer), template
        assert answer.headers["content-type"] == "application/json", template


async def test_unknown_paths_stay_the_apis_json_404(client: httpx.AsyncClient) -> None:
    for path in UNKNOWN:
        answer = await client.get(path, headers=BROWSER, follow_redirects=True)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/json", path
        assert "detail" in answer.json() and not is_the_app(answer), path
        assert answer.headers["cache-control"] == "no-store", path


async def test_the_pages_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/manage", "/account", "/staff", "/assets"))]
    assert "/" not in paths and "/favicon.svg" not in paths


async def test_hashed_files_are_cached_for_good_with_their_types(
    client: httpx.AsyncClient,
) -> None:
    for name, (body, content_type) in ASSETS.items():
        asset = await client.get(f"/assets/{name}")
        assert asset.status_code == 200, name
        assert asset.content == body
        assert asset.headers["content-type"] == content_type
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["x-content-type-options"] == "nosniff"
        head = await client.head(f"/assets/{name}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(body))


async def test_the_builds_public_files_are_served_unless_they_would_shadow_a_route(
    db: TestDatabase, dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.web"):
        async with serving(db, web_dist_dir=str(dist)) as client:
            icon = await client.get("/favicon.svg")
            assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
            assert icon.headers["cache-control"] == "no-cache"
            robots = await client.get("/robots.txt")
            assert robots.text.startswith("User-agent")
            api = await client.get("/openapi.json")
            assert "paths" in api.json()
    assert [r.getMessage() for r in caplog.records] == [
        "web app file openapi.json is not served: /openapi.json is another route's"
    ]


async def test_nothing_outside_the_build_is_reachable(
    app: FastAPI, client: httpx.AsyncClient, dist: Path
) -> None:
    secret = dist.parent / "secret.txt"
    secret.write_text("not for you")
    (dist / "assets" / "link.txt").symlink_to(secret)
    for path in [
        "/assets/../index.html",
        "/assets/../../secret.txt",
        "/assets/..//secret.txt",
        f"/assets/{secret}",  # an absolute path after /assets/
        "/assets//etc/passwd",
        "/assets/link.txt",  # a link leading out of the build
        "/assets/a\x00b.js",
    ]:
        status, headers, body = await raw_get(app, path)
        assert status == 404, path
        assert headers["content-type"] == "application/json", path
        assert b"not for you" not in body and b"root" not in body, path
    for path in ["/assets/%2e%2e/index.html", "/assets/..%2F..%2Fsecret.txt"]:
        answer = await client.get(path)
        assert answer.status_code == 404 and "not for you" not in answer.text, path


async def test_a_page_the_browser_holds_is_not_sent_again(client: httpx.AsyncClient) -> None:
    first = await client.get("/", headers=BROWSER)
    again = await client.get("/", headers={**BROWSER, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # A browser updates the stored page's headers from a 304: it carries the page's own.
    for header in ("content-security-policy", "cache-control", "etag"):
        assert again.headers[header] == first.headers[header], header
    changed = await client.get("/", headers={**BROWSER, "If-None-Match": '"another"'})
    assert changed.status_code == 200 and is_the_app(changed)


async def test_the_pages_policy_and_framing_by_default(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers=BROWSER)
    assert page.headers["content-security-policy"] == PAGE_POLICY + "'none'"
    assert page.headers["x-frame-options"] == "DENY"
    for path in ("/restaurant", "/assets/index-B4x9Qk2a.js", "/docs", "/nope"):
        other = await client.get(path)
        assert other.headers["content-security-policy"] == "frame-ancestors 'none'", path
        assert other.headers["x-frame-options"] == "DENY", path


async def test_frame_ancestors_may_frame_the_pages_and_nothing_else(
    db: TestDatabase, dist: Path
) -> None:
    origins = "https://www.my-restaurant.example, https://book.example.org:8443/"
    async with serving(db, web_dist_dir=str(dist), frame_ancestors=origins) as client:
        allowed = "https://www.my-restaurant.example https://book.example.org:8443"
        for path in PAGES:
            page = await client.get(path, headers=BROWSER)
            assert page.headers["content-security-policy"] == PAGE_POLICY + allowed, path
            assert "x-frame-options" not in page.headers, path
        api = ["/restaurant", "/bookings", "/health", "/assets/index-B4x9Qk2a.js", "/docs",
               "/favicon.svg", "/nope"]  # fmt: skip
        for path in api:
            answer = await client.get(path, headers=BROWSER)
            assert answer.headers["content-security-policy"] == "frame-ancestors 'none'", path
            assert answer.headers["x-frame-options"] == "DENY", path


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.my-restaurant.example/booking",  # a path
        "www.my-restaurant.example",  # no scheme
        "ftp://www.my-restaurant.example",
        "https://www.my-restaurant.example?x=1",
        "https://user@www.my-restaurant.example",
        "'self'",
        "*",
        "https://a.example; script-src *",  # another directive smuggled in
        "https://a.example https://b.example",  # two origins without a comma
    ],
)
def test_frame_ancestors_must_be_origins(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(_env_file=None, frame_ancestors=origin)


def test_frame_ancestors_are_read_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAME_ANCESTORS", " https://A.example/ ,http://127.0.0.1:8080,, ")
    assert Settings(_env_file=None).frame_ancestors == [
        "https://a.example",
        "http://127.0.0.1:8080",
    ]
    monkeypatch.setenv("FRAME_ANCESTORS", "")
    assert Settings(_env_file=None).frame_ancestors == []


def test_the_build_is_looked_for_beside_the_package_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    beside = Path(app_package.__file__).resolve().parent.parent / "web" / "dist"
    monkeypatch.delenv("WEB_DIST_DIR", raising=False)
    assert Settings(_env_file=None).web_dist_dir == beside
    monkeypatch.setenv("WEB_DIST_DIR", "")
    assert Settings(_env_file=None).web_dist_dir == beside
    monkeypatch.setenv("WEB_DIST_DIR", str(tmp_path))
    assert Settings(_env_file=None).web_dist_dir == tmp_path


async def test_without_a_build_the_pages_say_how_to_make_one_and_the_api_works(
    db: TestDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "no-build"
    with caplog.at_level(logging.WARNING, logger="app.web"):
        async with serving(db, web_dist_dir=str(empty)) as client:
            for path in PAGES:
                page = await client.get(path, headers=BROWSER)
                assert page.status_code == 503, path
                assert page.headers["content-type"] == "text/html; charset=utf-8"
                assert "make web" in page.text and "Node.js 20" in page.text
                assert not is_the_app(page) and str(empty) not in page.text
                assert page.headers["content-security-policy"] == PAGE_POLICY + "'none'"
                assert page.headers["cache-control"] == "no-store"
            asset = await client.get("/assets/index-B4x9Qk2a.js")
            assert asset.status_code == 404 and asset.json() == {"detail": "No such file"}
            restaurant = await client.get("/restaurant")
            assert restaurant.status_code == 200 and restaurant.json()["name"]
            assert (await client.get("/health")).json() == {"status": "ok"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "app.web"]
    assert len(warnings) == 1 and "not built" in warnings[0] and "make web" in warnings[0]
    assert str(empty / "index.html") in warnings[0]
