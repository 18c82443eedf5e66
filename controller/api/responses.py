"""The API's answers: JSON bodies, and every failure in OpenWhisk's shape,
`{"error": message, "code": transid}` (docs/openwhisk-compatibility.md §1.1), whether the core refused
(`ApiError`) or the framework did (unknown route, wrong method, invalid body)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from pywhisk.common import jsonio
from pywhisk.controller.core.errors import ApiError, default_message


def transid_of(request: Request) -> str:
    return str(request.scope.get("transid", ""))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(body), status, headers, media_type="application/json")


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(status, {"error": message, "code": transid_of(request)}, headers)


def fire_answer(activation_id: str | None) -> Response:
    """202 with the trigger activation's id, or 204 when nothing fired (OW)."""
    if activation_id is None:
        return Response(status_code=204)
    headers = {"x-openwhisk-activation-id": activation_id}
    return json_response(202, {"activationId": activation_id}, headers)


_METHOD_ORDER = ("GET", "PUT", "DELETE", "POST", "PATCH", "OPTIONS")  # OW's listing order


def _route_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's include_router
        if included is not None:
            methods |= _route_methods(included.routes, scope)
        elif route.matches(scope)[0] != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return methods


def _allowed_methods(request: Request) -> str:
    methods = _route_methods(request.app.router.routes, request.scope)
    return ", ".join(m for m in _METHOD_ORDER if m in methods)


def install(app: FastAPI) -> None:
    """Route every framework rejection through the OpenWhisk error shape."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request, exc.status, exc.message, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = default_message(exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route the path matched; the
            # resource has those of every route it matches (a package: GET, PUT, DELETE)
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
            message = "HTTP method not allowed, supported methods: " + headers["Allow"]
        return error_response(request, exc.status_code, message, headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}".lstrip(
                ": "
            )
            for e in exc.errors()
        )
        return error_response(request, 400, f"The request content was malformed:\n{detail}")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
