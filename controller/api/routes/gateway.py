"""`/api/<tenant>/<base path>/<path>`: the HTTP APIs made with `wsk api create` and the
management API (routes/apimgmt.py), served on the API port.

A request finds its namespace's APIs by the tenant in its URL (the namespace's uuid), its
route by base path, path and method (controller/api/apigw/routing.py), and is then served as
a call of the route's web action would be (routes/web.py's `serve`: the owner's throttles
and records, the request's method, headers, query and body as the action expects them),
with the route's response type as the extension, and:
- path parameters (`/books/{isbn}`) added to the query, so an ordinary web action gets
  them as arguments and a raw one in `__ow_query`, over any query parameter of the name;
- for an `http` route, the path past the base path as `__ow_path` (OpenWhisk's gateway
  appends `$(request.path)` to such routes' URLs); other types get none;
- the route's secure key as `X-Require-Whisk-Auth` (replacing any the caller sent), and
  `X-Forwarded-Url`, the URL the caller used.
An unknown path is a 404; a known path with another method a 405 naming the path's
methods; OPTIONS on a known path without an OPTIONS route is a CORS preflight, answered
here. Every answer carries `Access-Control-Allow-Origin: *` unless the API turned CORS off.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from pywhisk.common.names import QualifiedName, is_valid_name
from pywhisk.controller.api.apigw import routing, tenants
from pywhisk.controller.api.requests import body_bytes
from pywhisk.controller.api.responses import error_response
from pywhisk.controller.api.routes.web import cors_headers, serve
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.services import Services

PATH = "/api/{tenant}/{rest:path}"
_RESERVED = "v1"  # /api/v1/… is the REST API, never a tenant
_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")


class GatewayRoute(Route):
    """Matches `/api/<tenant>/…` except the REST API's `/api/v1/…`, whose own routes
    (and their 404 and 405 answers) must not be shadowed."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api/" + _RESERVED or path.startswith(f"/api/{_RESERVED}/"):
            return Match.NONE, {}
        return super().matches(scope)


def _raw_rest(request: Request) -> str:
    """The path past `/api/<tenant>`, as sent (percent-encoded, as routing expects)."""
    raw: bytes | None = request.scope.get("raw_path")
    if raw is None:  # a server that keeps no raw path: the decoded one will do
        return "/" + str(request.path_params["rest"])
    parts = raw.decode("latin-1").split("?", 1)[0].split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else "/"


def _preflight(request: Request, methods: tuple[str, ...]) -> Response:
    allowed = ", ".join(sorted({*methods, "OPTIONS"}))
    headers = cors_headers(request)
    headers["Access-Control-Allow-Methods"] = allowed
    return Response(status_code=200, headers=headers)


def _public_url(request: Request) -> str:
    return str(request.url)


async def gateway_endpoint(request: Request) -> Response:
    received = int(time.time() * 1000)
    svc: Services = request.app.state.services
    cache: tenants.CompiledCache = request.app.state.gateway_routes
    tenant = str(request.path_params["tenant"])
    found = await tenants.served(svc, cache, tenant)
    if found is None:
        raise ApiError(404)
    _, apis = found
    match = routing.find(apis, request.method, _raw_rest(request))
    if isinstance(match, routing.Miss):
        cors = cors_headers(request) if match.api is None or match.api.cors else {}
        if match.api is not None and request.method == "OPTIONS" and match.api.cors:
            return _preflight(request, match.methods)
        if not match.methods:
            return error_response(request, 404, ApiError(404).message, cors)
        allowed = ", ".join(match.methods)
        message = "HTTP method not allowed, supported methods: " + allowed
        return error_response(request, 405, message, {**cors, "Allow": allowed})
    target = match.route.target
    cors = cors_headers(request) if match.api.cors else {}
    names_ok = target is not None and all(
        is_valid_name(n) for n in (target.namespace, target.action, target.package or "x")
    )
    if target is None or not names_ok:
        return error_response(request, 404, ApiError(404).message, cors)
    body = await body_bytes(request, svc.settings.payload_max)
    query = request.scope["query_string"].decode("latin-1")
    if match.params:
        query = "&".join(q for q in (query, urlencode(match.params, quote_via=quote)) if q)
    headers = {"x-forwarded-url": _public_url(request)}
    if target.secure_key is not None:
        headers["x-require-whisk-auth"] = target.secure_key
    fqn = QualifiedName(target.namespace, target.action, target.package)
    path = match.relpath if target.extension == "http" else ""
    try:
        return await serve(
            request,
            svc,
            fqn,
            target.extension,
            path,
            query,
            body,
            received,
            headers=headers,
            cors_enabled=match.api.cors,
        )
    except ApiError as e:
        return error_response(request, e.status, e.message, {**cors, **e.headers})


def install(app: FastAPI) -> None:
    """After every other route: only what nothing else serves reaches the gateway."""
    app.state.gateway_routes = tenants.CompiledCache()
    app.router.routes.append(
        GatewayRoute(PATH, gateway_endpoint, methods=list(_METHODS), include_in_schema=False)
    )
