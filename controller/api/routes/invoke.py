"""POST /namespaces/{ns}/actions/[{pkg}/]{name}: invoking an action, the hot path (§1.3.3).

Served as plain Starlette routes placed ahead of the FastAPI routers: FastAPI's route
matching and dependency resolution cost about 180 µs of CPU per request here (measured:
~720 → ~540 µs per blocking invoke), a quarter of the platform's own work on a warm invoke.
The operation still appears in the OpenAPI document (`OPENAPI`). Served by uvicorn, these
requests do not even reach the routes: `invoke_lane.py` hands them to `invoke_endpoint` ahead
of the application's middleware (the routes serve the app driven in-process).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from pywhisk.common.entities import Identity
from pywhisk.common.names import QualifiedName
from pywhisk.controller.api import responses
from pywhisk.controller.api.auth import identity
from pywhisk.controller.api.listing import flag
from pywhisk.controller.api.requests import body_bytes, parse_json
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.api.routes.actions import qualify
from pywhisk.controller.core import errors
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.invoke import invoke
from pywhisk.controller.core.resolve import resolve_action
from pywhisk.controller.core.services import Services

PATHS = (
    "/api/v1/namespaces/{namespace}/actions/{name}",
    "/api/v1/namespaces/{namespace}/actions/{package}/{name}",
)
# Lambda's Invoke API header (a pywhisk extension here): base64 of a JSON object, at most
# 3,583 characters, which a `provided` action's bootstrap gets decoded as the event's
# Lambda-Runtime-Client-Context (awslambdaric's `context.client_context`).
CLIENT_CONTEXT = "x-amz-client-context"
CLIENT_CONTEXT_MAX = 3583
BAD_CLIENT_CONTEXT = (
    f"X-Amz-Client-Context must be a base64-encoded JSON object of at most "
    f"{CLIENT_CONTEXT_MAX} characters."
)


def _client_context(request: Request) -> str | None:
    """The header's JSON, compact (one header line, ASCII), or None without the header."""
    raw = request.headers.get(CLIENT_CONTEXT)
    if raw is None:
        return None
    try:
        if len(raw) > CLIENT_CONTEXT_MAX:
            raise ValueError(raw)
        value = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSON's errors included
        raise ApiError(400, BAD_CLIENT_CONTEXT) from None
    if not isinstance(value, dict):
        raise ApiError(400, BAD_CLIENT_CONTEXT)
    return json.dumps(value, separators=(",", ":"))


def _parse_wait(request: Request, svc: Services) -> float | None:
    raw = request.query_params.get("timeout")
    if raw is None:
        return None
    limit_ms = int(svc.settings.blocking_wait * 1000)
    message = f"Timeout must be number of milliseconds up to {limit_ms}."
    try:
        ms = int(raw)
    except ValueError:
        raise ApiError(400, message) from None
    if not 0 < ms <= limit_ms:
        raise ApiError(400, message)
    return ms / 1000


async def _invoke(
    svc: Services, request: Request, caller: Identity, fqn: QualifiedName
) -> Response:
    received = int(time.time() * 1000)
    query = request.query_params
    blocking = flag(query, "blocking")
    result_only = flag(query, "result")
    wait = _parse_wait(request, svc)
    client_context = _client_context(request)
    body = await body_bytes(request, svc.settings.payload_max)
    payload: Any = parse_json(body) if body.strip() else {}
    if not isinstance(payload, dict | list):
        raise errors.malformed("expected a JSON object or array")
    target = await resolve_action(svc, fqn, caller)
    outcome = await invoke(
        svc,
        caller,
        target.action,
        target.revision,
        payload,
        blocking=blocking,
        transid=responses.transid_of(request),
        wait=wait,
        binding=target.binding,
        received=received,
        client_context=client_context,
    )
    headers = {"x-openwhisk-activation-id": outcome.activation_id}
    if outcome.activation is None:
        return json_response(202, {"activationId": outcome.activation_id}, headers)
    result = outcome.activation["response"]["result"]
    if isinstance(result, list):
        body_out: Any = result
    elif result_only:
        body_out = result
    else:
        body_out = {
            **outcome.activation,
            "response": {
                k: v for k, v in outcome.activation["response"].items() if k != "statusCode"
            },
        }
    return json_response(outcome.status_code, body_out, headers)


async def invoke_endpoint(request: Request) -> Response:
    params = request.path_params
    caller = await identity(request)
    svc: Services = request.app.state.services
    fqn = qualify(caller, params["namespace"], params["name"], params.get("package"), shared=True)
    return await _invoke(svc, request, caller, fqn)


def install(app: FastAPI) -> None:
    """Register the invoke routes (before the routers, so they match first) and document them."""
    for path in PATHS:
        app.add_route(path, invoke_endpoint, methods=["POST"])
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for path in PATHS:
            schema["paths"].setdefault(path, {}).update(OPENAPI)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


OPENAPI: dict[str, Any] = {
    "post": {
        "summary": "Invoke an action",
        "operationId": "invokeAction",
        "parameters": [
            {"name": "blocking", "in": "query", "schema": {"type": "boolean"}},
            {"name": "result", "in": "query", "schema": {"type": "boolean"}},
            {"name": "timeout", "in": "query", "schema": {"type": "integer"}},
            {"name": "X-Amz-Client-Context", "in": "header", "schema": {"type": "string"}},
        ],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": {"description": "the activation (blocking), or its result with result=true"},
            "202": {"description": 'accepted: {"activationId": …}'},
            "502": {"description": "the action failed (application or developer error)"},
        },
    }
}
