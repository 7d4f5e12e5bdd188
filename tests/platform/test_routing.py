"""LeanRoute binds an endpoint's parameters as FastAPI's APIRoute would: the same
answers (values, 401s, 422s with the same locations) and the same OpenAPI, and it
refuses, when the route is built, any parameter kind it does not bind."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field

from app.errors import Unauthorized, install_error_handlers
from app.routing import LeanRoute

scheme = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)


class Search(BaseModel):
    day: date = Field(description="A date")
    size: int = Field(ge=1, le=20)
    note: str | None = Field(None, max_length=5)


class Order(BaseModel):
    dish: str = Field(min_length=1)
    count: int = Field(ge=1)


async def caller(request: Request, token: Annotated[str | None, Depends(scheme)]) -> str:
    if token != "good":
        raise Unauthorized("Not authenticated")
    return f"{token}@{request.client.host if request.client else '?'}"


async def counted(request: Request) -> None:
    request.app.state.counted += 1


def _echo(status: int = 200, **values: Any) -> Response:
    body = json.dumps(values, default=str)
    return Response(body, status_code=status, media_type="application/json")


async def search(
    request: Request, _: Annotated[None, Depends(counted)], query: Annotated[Search, Query()]
) -> Response:
    return _echo(path=request.url.path, **query.model_dump())


async def order(
    body: Order,
    who: Annotated[str, Depends(caller)],
    request_key: Annotated[str | None, Header(max_length=8)] = None,
) -> Response:
    return _echo(201, who=who, key=request_key, **body.model_dump())


def make_app(route_class: type[APIRoute], *, direct: bool = False) -> FastAPI:
    """`direct`: the routes become the app's own (as app.main adds the hot routes),
    otherwise the router is included (FastAPI serves it through its own wrapper)."""
    app = FastAPI()
    app.state.counted = 0
    install_error_handlers(app)
    router = APIRouter(route_class=route_class)
    router.get("/search")(search)
    router.post("/orders", status_code=201)(order)
    if direct:
        app.router.routes.extend(router.routes)
    else:
        app.include_router(router)
    return app


GOOD = {"Authorization": "Bearer good"}


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/search", {"params": {"day": "2030-01-02", "size": "3"}}),
    ("GET", "/search", {"params": {"day": "2030-01-02", "size": "3", "note": "hi", "x": "1"}}),
    ("GET", "/search", {"params": {"size": "3"}}),
    ("GET", "/search", {"params": {"day": "2030-02-30", "size": "0", "note": "toolong"}}),
    ("GET", "/search", {"params": {"day": "2030-01-02", "size": "many"}}),
    ("GET", "/search", {"params": [("day", "2030-01-02"), ("size", "1"), ("size", "2")]}),
    ("POST", "/orders", {"json": {"dish": "soup", "count": 2}, "headers": GOOD}),
    ("POST", "/orders", {"json": {"dish": "soup", "count": 2}}),
    ("POST", "/orders", {"json": {"dish": "", "count": 0}, "headers": GOOD}),
    ("POST", "/orders", {"json": {"dish": ""}}),
    ("POST", "/orders", {"json": ["soup"], "headers": GOOD}),
    ("POST", "/orders", {"headers": GOOD}),
    (
        "POST",
        "/orders",
        {"json": {"dish": "tea", "count": 1}, "headers": {**GOOD, "Request-Key": "k1"}},
    ),
    (
        "POST",
        "/orders",
        {"json": {"dish": "", "count": 1}, "headers": {**GOOD, "Request-Key": "x" * 9}},
    ),
    (
        "POST",
        "/orders",
        {"content": b'{"dish": "tea", "count": 1}',
         "headers": {**GOOD, "Content-Type": "text/plain"}},
    ),
    (
        "POST",
        "/orders",
        {"content": b'{"dish": "tea"}',
         "headers": {**GOOD, "Content-Type": "application/vnd.x+json"}},
    ),
    ("GET", "/search", {"params": {"day": "2030-01-02", "size": "3", "note": "café"}}),
    ("GET", "/search", {"params": {"day": "2030-01-02", "size": "3", "note": ""}}),
]  # fmt: skip


def _comparable(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    if response.status_code == 422:  # the same errors; the summary may order them apart
        body = sorted((tuple(e["loc"]), e["type"], e["msg"]) for e in body["errors"])
    return response.status_code, body


async def _answers(app: FastAPI) -> list[tuple[int, Any]]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return [
            _comparable(await client.request(method, path, **kwargs))
            for method, path, kwargs in REQUESTS
        ]


@pytest.mark.parametrize("direct", [False, True], ids=["included", "direct"])
async def test_answers_as_fastapi_does(direct: bool) -> None:
    fastapi_app, lean_app = make_app(APIRoute), make_app(LeanRoute, direct=direct)
    expected = await _answers(fastapi_app)
    assert await _answers(lean_app) == expected
    statuses = [status for status, _ in expected]
    assert statuses == [200, 200, 422, 422, 422, 200, 201, 401, 422, 401, 422, 422, 201,
                        422, 422, 422, 200, 200]  # fmt: skip
    assert (expected[16][1]["note"], expected[17][1]["note"]) == ("café", "")
    assert expected[5][1]["size"] == 2  # the last of repeated values, as FastAPI
    assert expected[12][1] == {"who": "good@127.0.0.1", "key": "k1", "dish": "tea", "count": 1}
    three = {loc for loc, _, _ in expected[3][1]}
    assert three == {("query", "day"), ("query", "size"), ("query", "note")}
    both = {loc for loc, _, _ in expected[13][1]}
    assert both == {("body", "dish"), ("header", "request-key")}
    # The dependency ran for every search, valid or not, in both apps.
    assert fastapi_app.state.counted == lean_app.state.counted == 8


async def test_a_missing_token_is_401_even_when_the_json_is_broken() -> None:
    """FastAPI parses the body before it solves dependencies, so broken JSON without a
    token is a 422 there; LeanRoute checks the caller first and says 401."""
    transport = httpx.ASGITransport(app=make_app(LeanRoute))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        json_type = {"Content-Type": "application/json"}
        assert (await client.post("/orders", content=b"{", headers=json_type)).status_code == 401
        response = await client.post("/orders", content=b"{", headers={**json_type, **GOOD})
        assert response.status_code == 422
        assert response.json()["errors"][0]["type"] == "json_invalid"


def test_documented_as_fastapi_documents_it() -> None:
    expected = make_app(APIRoute).openapi()
    assert make_app(LeanRoute).openapi() == expected
    assert make_app(LeanRoute, direct=True).openapi() == expected


async def _yields() -> Any:
    yield 1


def _sync_dependency() -> int:
    return 1


async def _path(item_id: int) -> Response:
    return Response()


async def _bare_query(size: int) -> Response:
    return Response()


async def _two_bodies(a: Order, b: Order) -> Response:
    return Response()


async def _yield_dep(x: Annotated[int, Depends(_yields)]) -> Response:
    return Response()


async def _sync_dep(x: Annotated[int, Depends(_sync_dependency)]) -> Response:
    return Response()


def _sync_endpoint() -> Response:
    return Response()


@pytest.mark.parametrize(
    "endpoint", [_path, _bare_query, _two_bodies, _yield_dep, _sync_dep, _sync_endpoint]
)
def test_refuses_what_it_does_not_bind(endpoint: Any) -> None:
    router = APIRouter(route_class=LeanRoute)
    path = "/items/{item_id}" if endpoint is _path else "/items"
    with pytest.raises(TypeError, match="LeanRoute"):
        router.post(path)(endpoint)
