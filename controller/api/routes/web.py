"""`/api/v1/web/{namespace}/{package|default}/{action}[.ext][/path]`: web actions (§5).

Anyone may call a web action; it runs as its owner (throttles, records and billing are the
owner's), and whisk credentials, when a caller sends valid ones, only tell the action who
called (`__ow_user`). Whatever cannot be served is a 404 that does not say whether the
namespace or the action exists. Like the invoke route, this is a plain Starlette route
ahead of the FastAPI routers: bots and forms call it as often as clients invoke.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from pywhisk.common.entities import ActivationResponse, Identity, Status
from pywhisk.common.names import QualifiedName, is_valid_name
from pywhisk.controller.api import responses
from pywhisk.controller.api.auth import parse_basic
from pywhisk.controller.api.requests import body_bytes
from pywhisk.controller.api.responses import error_response
from pywhisk.controller.api.web import request as web_request
from pywhisk.controller.api.web.response import NOT_FOUND_PROPERTY, WebResponse, shape
from pywhisk.controller.core import errors
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.invoke import invoke
from pywhisk.controller.core.resolve import Resolved, resolve_action
from pywhisk.controller.core.services import Services

_PREFIX = "/api/v1/web/"
PATH = _PREFIX + "{rest:path}"
METHODS = ("GET", "DELETE", "POST", "PUT", "HEAD", "OPTIONS", "PATCH")
_METHOD_NOT_ALLOWED = "HTTP method not allowed, supported methods: " + ", ".join(METHODS)
NOT_READY = "Response not yet ready."

_CORS_METHODS = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
_CORS_HEADERS = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"


def cors_headers(request: Request) -> dict[str, str]:
    """OW's default answer to browsers: any origin, every web method, the asked-for headers."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": _CORS_METHODS,
        "Access-Control-Allow-Headers": request.headers.get(
            "access-control-request-headers", _CORS_HEADERS
        ),
    }


def parse_target(raw: str) -> tuple[QualifiedName, str, str] | None:
    """`ns/pkg/action.ext/extra` (as sent, percent-encoded) → (name, extension, `/extra`);
    None if it names nothing. The rest of the path reaches the action as it was sent, as
    in OpenWhisk, so an encoded `/` in it stays distinguishable from a separator."""
    parts = raw.split("/")
    if len(parts) < 3:
        return None
    namespace, package, segment = (unquote(part) for part in parts[:3])
    name, extension = web_request.split_extension(segment)
    if not (is_valid_name(namespace) and is_valid_name(package) and is_valid_name(name)):
        return None
    path = "/" + "/".join(parts[3:]) if len(parts) > 3 else ""
    return (
        QualifiedName(namespace, name, None if package == "default" else package),
        extension,
        path,
    )


def _raw_rest(request: Request) -> str:
    raw: bytes | None = request.scope.get("raw_path")
    if raw is None:  # a server that keeps no raw path: the decoded one will do
        return str(request.path_params["rest"])
    return raw.decode("latin-1")[len(_PREFIX) :]


async def _exported(svc: Services, fqn: QualifiedName) -> tuple[Identity, Resolved]:
    """The owner and the web-exported action, or a 404 that leaks nothing."""
    owner = await svc.identities.by_namespace(fqn.namespace)
    if owner is None:
        raise ApiError(404)
    try:
        # the owner runs it, so the owner's entitlement decides (a binding to a package
        # that is no longer public); refusals read as absence, as everything else here
        target = await resolve_action(svc, fqn, owner)
    except ApiError as e:
        if e.status in (403, 404, 409, 422):
            raise ApiError(404) from None
        raise
    if target.action.annotation("web-export") is not True:
        raise ApiError(404)
    return owner, target


async def _caller(svc: Services, request: Request) -> str | None:
    """The namespace of valid whisk credentials; wrong ones make an anonymous caller, as in OW."""
    credentials = parse_basic(request.headers.get("authorization"))
    if credentials is None:
        return None
    identity = await svc.identities.by_auth(*credentials)
    return identity.namespace if identity else None


def _reply(shaped: WebResponse, defaults: dict[str, str], ours: dict[str, str]) -> Response:
    """The action's headers replace `defaults` (CORS) of the same name, never `ours`."""
    response = Response(shaped.body, shaped.status)
    given = {name.lower() for name, _ in shaped.headers}
    pairs = [(k, v) for k, v in defaults.items() if k.lower() not in given]
    pairs += [(k, v) for k, v in shaped.headers if k.lower() not in ours]
    pairs += ours.items()
    response.raw_headers.extend((k.lower().encode(), v.encode()) for k, v in pairs)
    return response


def _outcome_response(activation: dict[str, Any], extension: str) -> WebResponse:
    outcome = ActivationResponse.from_json(activation["response"])
    if outcome.status == Status.SUCCESS:
        return shape(outcome.result, extension)
    if outcome.status == Status.APPLICATION_ERROR:
        # the action's `error` is its answer, served like a result (e.g. a 400 page)
        if not isinstance(outcome.result, dict) or "error" not in outcome.result:
            raise ApiError(404, NOT_FOUND_PROPERTY)
        return shape(outcome.result["error"], extension)
    raise ApiError(400, errors.INTERNAL)


async def _run(
    svc: Services,
    request: Request,
    owner: Identity,
    target: Resolved,
    web: web_request.WebRequest,
    extension: str,
    received: int,
) -> tuple[WebResponse, dict[str, str]]:
    """Invoke, wait, and shape the result; the activation id header goes on errors too."""
    action = target.action
    args = web_request.arguments(web, raw=action.annotation("raw-http") is True)
    try:
        outcome = await invoke(
            svc,
            owner,
            action,
            target.revision,
            args,
            blocking=True,
            transid=responses.transid_of(request),
            binding=target.binding,
            received=received,
        )
    except ApiError as e:
        if e.status == 403:
            # a sequence naming what its owner may no longer use: the 403 would name that
            # component to anonymous callers; it reads as absence, as every refusal here
            raise ApiError(404) from None
        raise
    activation_header = {"x-openwhisk-activation-id": outcome.activation_id}
    if outcome.activation is None:
        raise ApiError(202, NOT_READY, activation_header)
    try:
        return _outcome_response(outcome.activation, extension), activation_header
    except ApiError as e:
        raise ApiError(e.status, e.message, {**e.headers, **activation_header}) from None


async def web_endpoint(request: Request) -> Response:
    received = int(time.time() * 1000)
    if request.method not in METHODS:
        raise ApiError(405, _METHOD_NOT_ALLOWED, {"Allow": ", ".join(METHODS)})
    svc: Services = request.app.state.services
    body = await body_bytes(request, svc.settings.payload_max)
    named = parse_target(_raw_rest(request))
    if named is None:
        raise ApiError(404)
    fqn, extension, path = named
    query = request.scope["query_string"].decode("latin-1")
    return await serve(request, svc, fqn, extension, path, query, body, received)


async def serve(
    request: Request,
    svc: Services,
    fqn: QualifiedName,
    extension: str,
    path: str,
    query: str,
    body: bytes,
    received: int,
    *,
    headers: dict[str, str] | None = None,
    cors_enabled: bool = True,
) -> Response:
    """Run the web action `fqn` for `request` and answer as its `extension` asks. The API
    gateway calls it too, with `headers` to set (replacing the caller's of those names)
    and its API's CORS choice."""
    owner, target = await _exported(svc, fqn)
    action = target.action
    custom_options = action.annotation("web-custom-options") is True
    cors = {} if custom_options or not cors_enabled else cors_headers(request)
    if request.method == "OPTIONS" and not custom_options:
        return Response(status_code=200, headers=cors)
    replaced = {name.lower() for name in headers or {}}
    sent = [
        (k.decode("latin-1"), web_request.header_text(v))
        for k, v in request.headers.raw
        if k.decode("latin-1").lower() not in replaced
    ]
    web = web_request.WebRequest(
        method=request.method,
        headers=[*sent, *(headers or {}).items()],
        path=path,
        query=query,
        body=body,
        user=await _caller(svc, request),
    )
    try:
        # an action that answers OPTIONS itself answers everyone: browsers send no auth
        if request.method != "OPTIONS" and not web_request.authorized(
            action.annotation("require-whisk-auth"), web
        ):
            raise ApiError(401)
        shaped, activation_header = await _run(
            svc, request, owner, target, web, extension, received
        )
    except ApiError as e:
        return error_response(request, e.status, e.message, {**cors, **e.headers})
    return _reply(shaped, cors, activation_header)


def install(app: FastAPI) -> None:
    """Register the web route ahead of the routers (it is a hot path, like invoke)."""
    # TRACE and CONNECT reach the endpoint too, to be refused in OW's words
    routed = [*METHODS, "TRACE", "CONNECT"]
    app.add_route(PATH, web_endpoint, methods=routed, include_in_schema=False)
