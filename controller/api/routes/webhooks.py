"""Webhooks (a pywhisk extension): a per-trigger URL carrying a secret fires the trigger as
its owner, for services that cannot send Basic credentials (payment gateways, chat apps).

Owner routes, authenticated like the rest of the API:
  POST   /api/v1/namespaces/{ns}/triggers/{name}/webhook[?rotate=true]  create (or rotate)
         → 200 {"url", "path", "created"}: the only time the secret is shown
  GET    same → 200 {"created"} when there is one, else 404
  DELETE same → 200 {"created"}: revoked, the URL no longer fires
The public route, no credentials:
  POST   /api/v1/webhooks/{ns}/{trigger}/{secret}
         → as a fire: 202 {"activationId"} or 204; 401 for anything wrong with the URL
           (unknown namespace, trigger or secret, revoked), with nothing fired; 413 past
           the payload limit; 429 past the owner's fires per minute.
The payload is read as a web action reads its request: query parameters < the body's JSON
object or form fields, any other body whole as `__ow_body`; or, for a trigger annotated
`raw-http: true`, as a raw web action reads it (`__ow_query`, `__ow_body` untouched, base64
for JSON and binary), so an action can check a signature computed over the exact body. The
headers reach the rules' actions as `__ow_headers`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities.params import truthy
from pywhisk.common.names import InvalidName, QualifiedName, check_name, check_namespace
from pywhisk.controller.api import responses
from pywhisk.controller.api.auth import Caller, Svc
from pywhisk.controller.api.listing import flag
from pywhisk.controller.api.requests import body_bytes
from pywhisk.controller.api.responses import fire_answer, json_response
from pywhisk.controller.api.routes.triggers import trigger_name
from pywhisk.controller.api.web.request import WebRequest, header_text, payload
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.triggers.docs import fetch_trigger, modify_trigger, require_trigger
from pywhisk.controller.core.triggers.firing import fire_trigger
from pywhisk.controller.core.triggers.webhooks import key_for, new_secret, opens, webhook_path

router = APIRouter(prefix="/api/v1")

RAW_ANNOTATION = "raw-http"  # on the trigger: pass the body untouched, as raw web actions get it
EXISTS = "The trigger has a webhook already; rotate it (rotate=true) for a new URL."
NO_WEBHOOK = "The trigger has no webhook."


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("/namespaces/{namespace}/triggers/{name}/webhook")
async def create_webhook(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = trigger_name(caller, namespace, name)
    rotate = flag(request.query_params, "rotate")
    secret, now = new_secret(), int(time.time() * 1000)
    existing, _ = await require_trigger(svc, fqn.doc_id)
    if existing.webhook is not None and not rotate:
        raise ApiError(409, EXISTS)
    key = key_for(secret, now)
    written = await modify_trigger(svc, fqn.doc_id, lambda t: t.model_copy(update={"webhook": key}))
    if written is None:
        raise ApiError(404)
    path = webhook_path(fqn.namespace, fqn.name, secret)
    return json_response(200, {"url": _base_url(request) + path, "path": path, "created": now})


@router.get("/namespaces/{namespace}/triggers/{name}/webhook")
async def get_webhook(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    trigger, _ = await require_trigger(svc, trigger_name(caller, namespace, name).doc_id)
    if trigger.webhook is None:
        raise ApiError(404, NO_WEBHOOK)
    return json_response(200, {"created": trigger.webhook.created})


@router.delete("/namespaces/{namespace}/triggers/{name}/webhook")
async def revoke_webhook(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    fqn = trigger_name(caller, namespace, name)
    trigger, _ = await require_trigger(svc, fqn.doc_id)
    if trigger.webhook is None:
        raise ApiError(404, NO_WEBHOOK)
    await modify_trigger(svc, fqn.doc_id, lambda t: t.model_copy(update={"webhook": None}))
    return json_response(200, {"created": trigger.webhook.created})


@router.post("/webhooks/{namespace}/{name}/{secret}")
async def webhook(namespace: str, name: str, secret: str, request: Request, svc: Svc) -> Response:
    try:
        fqn = QualifiedName(check_namespace(namespace), check_name(name))
    except InvalidName:
        raise ApiError(401) from None
    owner = await svc.identities.by_namespace(fqn.namespace)
    found = await fetch_trigger(svc, fqn.doc_id) if owner is not None else None
    trigger = found[0] if found else None
    if not opens(trigger, secret) or owner is None or trigger is None:
        raise ApiError(401)
    body = await body_bytes(request, svc.settings.payload_max)
    headers = [(header_text(k), header_text(v)) for k, v in request.scope["headers"]]
    given = WebRequest(
        method=request.method,
        headers=headers,
        path="",
        query=request.scope.get("query_string", b"").decode("latin-1"),
        body=body,
    )
    activation_id = await fire_trigger(
        svc,
        owner,
        fqn,
        payload(given, raw=truthy(trigger.annotation(RAW_ANNOTATION, False))),
        transid=responses.transid_of(request),
        headers=dict(headers),
    )
    return fire_answer(activation_id)
