"""OpenWhisk-shaped errors: every failure is `{"error": msg, "code": transid}` (OPENWHISK.md §1.1)."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from pywhisk.common import jsonio

NOT_FOUND = "The requested resource does not exist."
FORBIDDEN = "The supplied authentication is not authorized to access this resource."
UNAUTHORIZED = "The supplied authentication is invalid."
CONFLICT = "resource already exists"
CONCURRENT_MODIFICATION = "Concurrent modification to resource detected."
WRONG_COLLECTION = "Resource by this name exists but is not in this collection."
UNAVAILABLE = (
    "The server is currently unavailable (because it is overloaded or down for maintenance)."
)
INTERNAL = "There was an error processing your request."


class ApiError(Exception):
    def __init__(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message or default_message(status)
        self.headers = headers or {}


def default_message(status: int) -> str:
    if status == 404:
        return NOT_FOUND
    if status == 403:
        return FORBIDDEN
    if status == 401:
        return UNAUTHORIZED
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def transid_of(request: Request) -> str:
    return str(request.scope.get("transid", ""))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(body), status, headers, media_type="application/json")


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(status, {"error": message, "code": transid_of(request)}, headers)


def not_authorized(fqname: str) -> ApiError:
    """OW entitlement's refusal, naming the resource (`ns[/pkg][/name]`) it refused."""
    return ApiError(403, f"The supplied authentication is not authorized to access '{fqname}'.")


def malformed(detail: str) -> ApiError:
    return ApiError(400, f"The request content was malformed:\n{detail}")


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
