"""The web app (web/: Vite, React), served by this process from its build (WEB_DIST_DIR;
`make web` writes web/dist): one process and one port for the API and its pages.

- Client routes answer index.html, and the app finds the page in the browser: `/`,
  `/manage/{token}`, `/account`, `/account/...`, `/staff`, `/staff/...` (GET and HEAD).
  There is no catch-all: any other unknown path is the API's JSON 404, and no client route
  shadows an API path (tests/platform/test_web.py checks both ways).
- index.html is revalidated on every visit (`no-cache`: it names the current build's
  files); /assets/* are the build's hashed files, kept by browsers for a year
  (`immutable`: a new build has new names). The other top-level files of the build
  (Vite copies web/public/ there: favicon.svg ...) are each a route of their own, listed
  at start-up and left out when one would shadow another route; `no-cache` as well.
- The pages carry a Content-Security-Policy for a build without inline scripts, and may
  be framed only by the origins FRAME_ANCESTORS names (none: never framed). Everything
  else keeps the edge's policy (app.middleware): never framed.
- Without a build (no index.html) the client routes answer a short page saying how to
  make one, with 503: the service cannot serve its pages, and a smoke test or monitor
  looking at `/` should say so rather than see a success. The API works as before.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match

from app.config import Settings
from app.errors import NotFound
from app.middleware import security_policy

log = logging.getLogger("app.web")

CLIENT_ROUTES = (
    "/",
    "/manage/{token}",
    "/account",
    "/account/{rest:path}",
    "/staff",
    "/staff/{rest:path}",
)
ASSETS = "/assets"
METHODS = ["GET", "HEAD"]
# What a Vite build of a React app needs: its own scripts only (no inline script), its
# own styles (React sets `style` attributes, hence 'unsafe-inline' for styles alone),
# images from itself or data: URIs, and requests to this service only.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# A file of the build served at /<name>: a plain name (no route syntax, not hidden).
PUBLIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Set here rather than guessed from the machine's MIME table, which a slim image may
# lack (a script served as text/plain is refused under nosniff).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".wasm": "application/wasm",
}
NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>The web app is not built</title></head>
<body>
<h1>The web app is not built</h1>
<p>This service answers its API, but the web app's files are missing (WEB_DIST_DIR has
no <code>index.html</code>).</p>
<p>Build them with <code>make web</code>, which needs Node.js 20 or later and npm, then
reload this page. The Docker image builds them itself.</p>
</body>
</html>
"""


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    known = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    return known or "application/octet-stream"


def _lookup(base: Path, relative: str) -> tuple[Path, os.stat_result] | None:
    """The regular file `relative` names inside `base`, or None: nothing there, or a path
    that leads out of it (`..`, an absolute path, a link pointing elsewhere)."""
    try:
        root = base.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            return None
        found = target.stat()
    except (OSError, ValueError):  # missing, unreadable, a name too long, a NUL byte
        return None
    return (target, found) if stat.S_ISREG(found.st_mode) else None


def _not_modified(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match")
    if not sent:
        return False
    return sent.strip() == "*" or etag in (
        tag.strip().removeprefix("W/") for tag in sent.split(",")
    )


async def _file(request: Request, base: Path, relative: str, headers: dict[str, str]) -> Response:
    """The file, with `headers`; a 304 (with the same headers) when the browser holds it."""
    found = await anyio.to_thread.run_sync(_lookup, base, relative)
    if found is None:
        raise NotFound("No such file")
    path, stat_result = found
    response = FileResponse(
        path, stat_result=stat_result, headers=headers, media_type=content_type(path)
    )
    etag = response.headers["etag"]
    if _not_modified(request, etag):
        # With the page's own headers: a browser updates what it stored from a 304's.
        return Response(status_code=304, headers={**headers, "etag": etag})
    return response


class WebApp:
    """The build in `dist` and the headers its answers carry."""

    def __init__(self, dist: Path, frame_ancestors: Sequence[str]) -> None:
        self.dist = dist
        self.assets = dist / "assets"
        self.policy = dict(security_policy(PAGE_POLICY, frame_ancestors=frame_ancestors))
        self.page_headers = {**self.policy, "cache-control": REVALIDATE}

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    async def page(self, request: Request) -> Response:
        """index.html for every client route; the app routes in the browser."""
        try:
            return await _file(request, self.dist, "index.html", self.page_headers)
        except NotFound:
            return HTMLResponse(NOT_BUILT, status_code=503, headers=self.policy)

    async def asset(self, request: Request, file: str) -> Response:
        return await _file(request, self.assets, file, {"cache-control": IMMUTABLE})

    def public(self, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return await _file(request, self.dist, name, {"cache-control": REVALIDATE})

        return serve

    def public_files(self) -> list[str]:
        """The build's top-level files other than index.html (Vite copies web/public/)."""
        if not self.dist.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.dist.iterdir()
            if entry.is_file() and entry.name != "index.html" and PUBLIC_NAME.fullmatch(entry.name)
        )


def _taken(app: FastAPI, path: str) -> bool:
    """Whether some route already answers `path` (or a part of it: a mount)."""
    scope = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": []}
    return any(route.matches(scope)[0] != Match.NONE for route in app.router.routes)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the client routes, /assets and the build's public files, after every API
    route (left out of the OpenAPI document: they are pages, not API)."""
    web = WebApp(settings.web_dist_dir, settings.frame_ancestors)
    for path in CLIENT_ROUTES:
        app.add_api_route(path, web.page, methods=METHODS, include_in_schema=False)
    app.add_api_route(
        f"{ASSETS}/{{file:path}}", web.asset, methods=METHODS, include_in_schema=False
    )
    for name in web.public_files():
        if _taken(app, f"/{name}"):
            log.warning("web app file %s is not served: /%s is another route's", name, name)
            continue
        app.add_api_route(f"/{name}", web.public(name), methods=METHODS, include_in_schema=False)
    if not web.built:
        log.warning(
            "The web app is not built (no %s): its pages answer 503 until `make web` builds "
            "it (Node.js 20+ and npm); the API is unaffected",
            settings.web_dist_dir / "index.html",
        )
