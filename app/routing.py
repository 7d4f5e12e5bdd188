"""LeanRoute: an APIRoute that binds its endpoint's parameters without FastAPI's
per-request dependency solving, for the two routes that run thousands of times a second.

FastAPI still matches the route, documents it from the endpoint's signature (the OpenAPI
schema is the same as with APIRoute) and wraps it in the app's middleware and exception
handlers. Only the per-request binding is ours. FastAPI validates query parameters one
by one and solves every dependency (a `yield` one with an exit stack) on each request;
one Pydantic model of all of them costs a small fraction of that, and on the availability
check the difference was a large share of the server's time (figures, dated, in
docs/architecture.md and docs/performance.md).

The binding is deliberately narrow. An endpoint may take only:
- the `Request`;
- dependencies, `Annotated[T, Depends(f)]`: a security scheme (called with the request)
  or an async function (not a generator) that itself takes only these two kinds; they
  run first, in order, as in FastAPI (so a missing token is a 401 before any 422);
- one Pydantic model of query parameters, `Annotated[Model, Query()]`, validated at once;
- one Pydantic model as the JSON body;
- header parameters, `Annotated[T, Header(...)]`.
Anything else (a dependency with `yield`, a path parameter, a form, a bare query
parameter) is refused when the route is built, so nothing is silently skipped. Nor are
dependency overrides applied. Invalid input raises RequestValidationError with
FastAPI's locations ("query", "body", "header"), so the app's 422 handler answers as it
does everywhere else (tests/platform/test_routing.py compares the two route classes).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

from fastapi import params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response

from app.errors import UNREADABLE_BODY, BadRequest

Binder = Callable[[Request], Awaitable[Any]]


def _located(error: ValidationError, *prefix: str | int) -> list[dict[str, Any]]:
    return [{**err, "loc": (*prefix, *err["loc"])} for err in error.errors(include_url=False)]


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _query_binder(model: type[BaseModel]) -> Binder:
    async def bind(request: Request) -> BaseModel:
        try:
            # As Starlette's QueryParams (latin-1, blanks kept), the last of repeated
            # names winning as in FastAPI, without building the multi-dict.
            query = request.scope["query_string"].decode("latin-1")
            return model.model_validate(dict(parse_qsl(query, keep_blank_values=True)))
        except ValidationError as exc:
            raise RequestValidationError(_located(exc, "query")) from None

    return bind


def _body_binder(model: type[BaseModel]) -> Binder:
    """As FastAPI: JSON (by its content type) is decoded, then validated like any
    Python value; a body of another type is validated as bytes, and fails."""

    async def bind(request: Request) -> BaseModel:
        body: Any = await request.body()
        if not body:
            missing = {"type": "missing", "loc": ("body",), "msg": "Field required"}
            raise RequestValidationError([{**missing, "input": None}])
        if _is_json(request.headers.get("content-type")):
            try:
                body = json.loads(body)
            except (UnicodeDecodeError, RecursionError):  # as FastAPI: a 400
                raise BadRequest(UNREADABLE_BODY) from None
            except json.JSONDecodeError as exc:
                invalid = {"type": "json_invalid", "loc": ("body", exc.pos)}
                raise RequestValidationError(
                    [
                        {
                            **invalid,
                            "msg": "JSON decode error",
                            "input": {},
                            "ctx": {"error": exc.msg},
                        }
                    ]
                ) from None
        try:
            return model.model_validate(body, from_attributes=True)  # as FastAPI
        except ValidationError as exc:
            raise RequestValidationError(_located(exc, "body")) from None
        except RecursionError:
            raise BadRequest(UNREADABLE_BODY) from None

    return bind


def _header_binder(name: str, kind: Any, info: params.Header, default: Any) -> Binder:
    alias = info.alias or (name.replace("_", "-") if info.convert_underscores else name)
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[kind, info])
    required = default is inspect.Parameter.empty

    async def bind(request: Request) -> Any:
        value = request.headers.get(alias)
        if value is None:
            if required:
                missing = {"type": "missing", "loc": ("header", alias), "msg": "Field required"}
                raise RequestValidationError([{**missing, "input": None}])
            return default
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            raise RequestValidationError(_located(exc, "header", alias)) from None

    return bind


def _dependency_binder(call: Any) -> Binder:
    """A security scheme is called with the request; an async function (not a
    generator) with its own parameters bound the same way, dependencies only."""
    if isinstance(call, SecurityBase):
        scheme: Callable[[Request], Awaitable[Any]] = call  # type: ignore[assignment]
        return scheme
    if not inspect.iscoroutinefunction(call):
        raise TypeError(f"LeanRoute: dependency {call!r} must be an async function")
    inner = _parameters(call)
    if any(p.kind != "dependency" for p in inner):
        raise TypeError(f"LeanRoute: dependency {call!r} may take the Request and dependencies")

    async def bind(request: Request) -> Any:
        return await call(**{p.name: await p.bind(request) for p in inner})

    return bind


@dataclass(frozen=True)
class _Parameter:
    name: str
    kind: str  # "dependency" (run first, in order), or an input: "query", "body", "header"
    bind: Binder


async def _the_request(request: Request) -> Request:
    return request


def _parameter(name: str, hint: Any, default: Any) -> _Parameter:
    if hint is Request:
        return _Parameter(name, "dependency", _the_request)
    if get_origin(hint) is Annotated:
        kind, *extras = get_args(hint)
        marker = next((e for e in extras if isinstance(e, params.Depends | params.Param)), None)
        if isinstance(marker, params.Depends) and marker.dependency is not None:
            return _Parameter(name, "dependency", _dependency_binder(marker.dependency))
        if isinstance(marker, params.Query) and _is_model(kind):
            return _Parameter(name, "query", _query_binder(kind))
        if isinstance(marker, params.Header):
            return _Parameter(name, "header", _header_binder(name, kind, marker, default))
    elif _is_model(hint):
        return _Parameter(name, "body", _body_binder(hint))
    raise TypeError(
        f"LeanRoute cannot bind parameter {name!r} ({hint!r}): it takes the Request, "
        "dependencies, one query model, one body model and headers only"
    )


def _parameters(call: Callable[..., Any]) -> list[_Parameter]:
    hints = get_type_hints(call, include_extras=True)
    return [
        _parameter(p.name, hints[p.name], p.default)
        for p in inspect.signature(call).parameters.values()
    ]


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


class LeanRoute(APIRoute):
    """See the module docstring. The endpoint must be async and return a Response."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if self.max_body_size is None:
            # Starlette's wrapper, not FastAPI's: that one opens two exit stacks per
            # request for dependencies with `yield` and uploaded files, which LeanRoute
            # does not bind, so they would be pure overhead.
            self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.dependant.call
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"LeanRoute: endpoint {endpoint!r} must be an async function")
        parameters = _parameters(endpoint)
        dependencies = [p for p in parameters if p.kind == "dependency"]
        inputs = [p for p in parameters if p.kind != "dependency"]
        for single in ("query", "body"):
            if sum(p.kind == single for p in inputs) > 1:
                raise TypeError(f"LeanRoute binds one {single} model at most")

        async def handler(request: Request) -> Response:
            # As FastAPI: dependencies first (a 401 before a 422), then every input,
            # their errors reported together.
            kwargs = {p.name: await p.bind(request) for p in dependencies}
            errors: list[Any] = []
            for p in inputs:
                try:
                    kwargs[p.name] = await p.bind(request)
                except RequestValidationError as exc:
                    errors.extend(exc.errors())
            if errors:
                raise RequestValidationError(errors)
            response: Response = await endpoint(**kwargs)
            return response

        return handler
