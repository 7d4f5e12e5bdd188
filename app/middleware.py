"""The ASGI middleware at the edge of the service (EdgeMiddleware): request body limits,
the methods allowed on a path (OPTIONS and 405), and the security headers every response
carries."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _answer(
    send: Send, status: int, body: dict[str, str] | None, headers: Iterable[tuple[bytes, bytes]]
) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    start_headers = list(headers)
    if body is not None:
        start_headers.append((b"content-type", b"application/json"))
    start_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": payload})


NEVER = "'none'"


def security_policy(
    policy: str = "", *, frame_ancestors: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The headers of a Content-Security-Policy `policy` whose frame-ancestors are exactly
    `frame_ancestors`; with none, never framed: 'none', and X-Frame-Options DENY for
    browsers that predate CSP's frame-ancestors (it cannot name origins, so it is left
    out when there are some)."""
    directives = [policy] if policy else []
    directives.append(f"frame-ancestors {' '.join(frame_ancestors) or NEVER}")
    headers = [("content-security-policy", "; ".join(directives))]
    if not frame_ancestors:
        headers.append(("x-frame-options", "DENY"))
    return headers


def too_large(limit: int) -> str:
    return f"The request body is larger than the {limit:,} bytes this service accepts"


class BodyTooLarge(HTTPException):
    """Raised while a body is read past the limit: an HTTPException, so that FastAPI's
    body parsing lets it through to the app's handler (a JSON 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit), headers={"Connection": "close"})


class EdgeMiddleware:
    """One layer at the edge, for every request (one send wrapper, not three):

    - Request bodies over `limit` bytes are refused with 413 without reading the rest: at
      once when Content-Length says so, else as soon as the bytes received pass the limit
      (a chunked body). (FastAPI's own max_body_size answers a declared length in plain
      text from inside the response; this answers in JSON, before the route runs.)
    - OPTIONS on a path answers 204 with every method its routes allow, and a 405 lists
      them all in Allow (Starlette names only the first route's methods when several
      routes share a path, e.g. GET and POST /bookings). A CORS preflight is left to the
      CORS middleware, inside this one.
    - Every answer carries the security headers: no content-type sniffing, no referrer (a
      manage link holds a token in its path), HSTS over TLS; not stored by caches unless
      the answer says otherwise (answers carry tokens and guests' details), and never
      framed unless the answer's own Content-Security-Policy names its frame-ancestors
      (the web app's pages, app.web, which FRAME_ANCESTORS may let a site frame). An
      answer's policy without frame-ancestors gets ours beside it (browsers enforce both).
    """

    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], limit: int) -> None:
        self.app = app
        self.routes = routes
        self.limit = limit
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        self.never_framed = [(name.encode(), value.encode()) for name, value in security_policy()]
        self.hsts = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

    def allowed(self, scope: Scope) -> list[str]:
        """Each method for which some route (or included router) fully matches the path
        (remembered per path: working it out walks every route)."""
        return self._allowed(scope["path"], scope.get("root_path", ""))

    @functools.lru_cache(maxsize=2048)  # noqa: B019 (one middleware per app, for its life)
    def _allowed(self, path: str, root_path: str) -> list[str]:
        scope = {"type": "http", "path": path, "root_path": root_path, "headers": []}
        methods = {
            method
            for method in METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL
                   for route in self.routes)
        }  # fmt: skip
        if methods:
            methods.add("OPTIONS")
        return sorted(methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if message["status"] == 405:
                    allow = ", ".join(self.allowed(scope)).encode()
                    headers = [(k, v) for k, v in headers if k != b"allow"]
                    headers.append((b"allow", allow))
                cached = framed = False
                for name, value in headers:
                    if name == b"cache-control":
                        cached = True
                    elif name == b"content-security-policy" and b"frame-ancestors" in value:
                        framed = True
                if not cached:
                    headers.append((b"cache-control", b"no-store"))
                headers += self.headers
                if not framed:
                    headers += self.never_framed
                if secure:
                    headers.append(self.hsts)
                message = {**message, "headers": headers}
            await send(message)

        preflight = any(name == b"access-control-request-method" for name, _ in scope["headers"])
        if scope["method"] == "OPTIONS" and not preflight and (allowed := self.allowed(scope)):
            await _answer(answer, 204, None, [(b"allow", ", ".join(allowed).encode())])
            return
        body_expected = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else -1
                if declared > self.limit:
                    await _answer(answer, 413, {"detail": too_large(self.limit)},
                                  [(b"connection", b"close")])  # fmt: skip
                    return
                body_expected = declared != 0
            elif name == b"transfer-encoding":
                body_expected = True
        if not body_expected:  # nothing to count (a GET): no wrapper
            await self.app(scope, receive, answer)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, answer)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
