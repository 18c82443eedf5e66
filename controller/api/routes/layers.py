"""/namespaces/{ns}/layers: list, get, put, delete layers (a pywhisk extension, after AWS
Lambda's layers; see common/entities/layer.py). Owners write; anyone reads a published one.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities.layer import LAYER, InvalidLayer, make_layer, summary
from pywhisk.common.names import InvalidName, QualifiedName, check_name
from pywhisk.controller.api.auth import Caller, Svc, own_namespace, resolve_namespace
from pywhisk.controller.api.listing import Page, flag
from pywhisk.controller.api.requests import json_body, malformed
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core import errors
from pywhisk.controller.core.entity_writes import check_replace, delete_entity, put_entity
from pywhisk.controller.core.errors import ApiError, not_authorized

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/layers")

BODY_LIMIT = 72 * 1024 * 1024  # a 48 MB zip in base64, and the JSON around it


def _name(name: str) -> str:
    try:
        return check_name(name)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None


@router.get("")
async def list_layers(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = resolve_namespace(caller, namespace)
    public_only = ns != caller.namespace
    page = Page.parse(request.query_params, "layers")
    entities = svc.store.entities
    if page.count:
        return json_response(
            200, {"layers": await entities.count(ns, LAYER, public_only=public_only)}
        )
    docs = await entities.list(ns, LAYER, skip=page.skip, limit=page.limit, public_only=public_only)
    return json_response(200, [summary(doc) for doc in docs])


@router.get("/{name}")
async def get_layer(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    ns = resolve_namespace(caller, namespace)
    fqn = QualifiedName(ns, _name(name))
    found = await svc.store.entities.get(fqn.doc_id)
    if ns != caller.namespace and (found is None or not found[0].get("publish")):
        raise not_authorized(f"{ns}/{name}")  # absent or private: the same answer, no leak
    if found is None or found[0].get("entityType") != LAYER:
        raise ApiError(404)
    with_code = request.query_params.get("code", "true").lower() != "false"
    return json_response(200, summary(found[0], with_code))


@router.put("/{name}")
async def put_layer(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = QualifiedName(own_namespace(caller, namespace, name), _name(name))
    body = await json_body(request, BODY_LIMIT)
    if not isinstance(body, dict):
        raise malformed("expected a JSON object")
    existing = await svc.store.entities.get(fqn.doc_id)
    old, rev = None, None
    if existing is not None:
        old, rev = existing
        check_replace(old, LAYER, flag(request.query_params, "overwrite"))
    try:
        doc = make_layer(fqn.namespace, fqn.name, body, old, int(time.time() * 1000))
    except InvalidLayer as exc:
        raise ApiError(400, str(exc)) from None
    await put_entity(svc, fqn.doc_id, doc, rev)
    if rev is not None:
        await svc.entity_changed(fqn.doc_id, rev)
    return json_response(200, summary(doc))


@router.delete("/{name}")
async def delete_layer(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    fqn = QualifiedName(own_namespace(caller, namespace, name), _name(name))
    found = await svc.store.entities.get(fqn.doc_id)
    if found is None:
        raise ApiError(404)
    doc, rev = found
    if doc.get("entityType") != LAYER:
        raise ApiError(409, errors.WRONG_COLLECTION)
    await delete_entity(svc, fqn.doc_id, rev)
    await svc.entity_changed(fqn.doc_id, rev)
    return json_response(200, summary(doc))
