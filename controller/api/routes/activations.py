"""/namespaces/{ns}/activations: list, get, result, logs (docs/openwhisk-compatibility.md §1.7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities.activation import api_form, summary
from pywhisk.common.ids import activation_id_error
from pywhisk.common.names import is_valid_name
from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.listing import Page, flag
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.services import Services

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/activations")


def _epoch(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Parameter is not a valid value for epoch seconds: {raw}") from None


def _name_filter(raw: str | None) -> str | None:
    if raw is None:
        return None
    parts = raw.split("/")
    if len(parts) > 2 or not all(is_valid_name(p) for p in parts):
        raise ApiError(
            400, f"Parameter may be a 'simple' name or 'package-name/simple' name: {raw}"
        )
    return raw


@router.get("")
async def list_activations(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = own_namespace(caller, namespace)
    query = request.query_params
    page = Page.parse(query, "activations")
    docs = flag(query, "docs")
    if page.count and docs:
        raise ApiError(400, "The parameter 'docs' is not permitted with 'count'.")
    filters: dict[str, Any] = {
        "name": _name_filter(query.get("name")),
        "since": _epoch(query.get("since")),
        "upto": _epoch(query.get("upto")),
    }
    store = svc.store.activations
    if page.count:
        with svc.metrics.timing("activation_count"):
            counted = await store.count(ns, **filters)
        return json_response(200, {"activations": counted})
    with svc.metrics.timing("activation_list"):
        found = await store.list(ns, skip=page.skip, limit=page.limit, **filters)
    return json_response(200, [api_form(d) if docs else summary(d) for d in found])


async def _fetch(
    svc: Services, caller: Caller, namespace: str, activation_id: str
) -> dict[str, Any]:
    ns = own_namespace(caller, namespace, activation_id)
    problem = activation_id_error(activation_id)
    if problem:
        raise ApiError(400, problem)
    with svc.metrics.timing("activation_get"):
        doc = await svc.store.activations.get(ns, activation_id)
    if doc is None:
        raise ApiError(404)
    return doc


@router.get("/{activation_id}")
async def get_activation(namespace: str, activation_id: str, caller: Caller, svc: Svc) -> Response:
    return json_response(200, api_form(await _fetch(svc, caller, namespace, activation_id)))


@router.get("/{activation_id}/result")
async def get_result(namespace: str, activation_id: str, caller: Caller, svc: Svc) -> Response:
    response = api_form(await _fetch(svc, caller, namespace, activation_id))["response"]
    return json_response(200, response)


@router.get("/{activation_id}/logs")
async def get_logs(namespace: str, activation_id: str, caller: Caller, svc: Svc) -> Response:
    doc = await _fetch(svc, caller, namespace, activation_id)
    return json_response(200, {"logs": doc.get("logs", [])})
