"""Every answer the suite's clients receive, by operation (method and path template), so
that one test at the end can check each status against the OpenAPI document."""

from __future__ import annotations

from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# (METHOD, path template) -> the statuses answered
RECEIVED: dict[tuple[str, str], set[int]] = defaultdict(set)


def recording(app: ASGIApp) -> ASGIApp:
    """`app`, noting each answer's status under the route that gave it (routes left out
    of the schema, such as /docs, are noted too and ignored by the check)."""

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        status = 0

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await app(scope, receive, noting)
        route = scope.get("route")
        if scope["type"] == "http" and status and route is not None:
            template = getattr(route, "path_format", None)
            if template is not None:
                RECEIVED[(scope["method"], template)].add(status)

    return recorded
