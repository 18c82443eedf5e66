"""/namespaces/{ns}/triggers: list, get, put, delete and fire triggers (docs/openwhisk-compatibility.md §1.4).

Triggers live at namespace level only and are private to their namespace. Firing is
`controller.triggers.firing.fire_trigger`; this module only reads the request and shapes the answer.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities import Identity, Trigger, TriggerPut
from pywhisk.common.entities.trigger import FEED_ANNOTATION
from pywhisk.common.names import InvalidName, QualifiedName, check_name
from pywhisk.controller.api import responses
from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.listing import flag, list_entities
from pywhisk.controller.api.requests import check_sizes, json_body, parse_model
from pywhisk.controller.api.responses import fire_answer, json_response
from pywhisk.controller.core import errors
from pywhisk.controller.core.action_updates import bump_version
from pywhisk.controller.core.entity_writes import check_replace, delete_entity
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.triggers.docs import put_trigger, require_trigger
from pywhisk.controller.core.triggers.firing import fire_trigger

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/triggers")

ONE_MB = 1024 * 1024


def trigger_name(caller: Identity, namespace: str, name: str) -> QualifiedName:
    ns = own_namespace(caller, namespace, name)
    try:
        return QualifiedName(ns, check_name(name))
    except InvalidName as e:
        raise ApiError(400, str(e)) from None


def _check_feed(put: TriggerPut) -> None:
    """A `feed` annotation must name an entity (`ns/pkg/name`, `ns/name` or `name`)."""
    for a in put.annotations or ():
        if a.key != FEED_ANNOTATION:
            continue
        try:
            if not isinstance(a.value, str):
                raise InvalidName
            QualifiedName.parse(a.value, "_")
        except InvalidName:
            raise ApiError(400, "Feed name is not valid") from None


def make_trigger(fqn: QualifiedName, put: TriggerPut, now: int) -> Trigger:
    return Trigger(
        namespace=fqn.namespace,
        name=fqn.name,
        version=put.version or "0.0.1",
        publish=bool(put.publish),
        parameters=tuple(put.parameters or ()),
        limits=put.limits or {},
        annotations=tuple(put.annotations or ()),
        updated=now,
    )


def update_trigger(old: Trigger, put: TriggerPut, now: int) -> Trigger:
    """Each given field replaces the old one (annotations too); the rules stay."""
    given: dict[str, Any] = {
        "parameters": tuple(put.parameters) if put.parameters is not None else None,
        "limits": put.limits,
        "publish": put.publish,
        "annotations": tuple(put.annotations) if put.annotations is not None else None,
    }
    return old.model_copy(
        update={
            **{k: v for k, v in given.items() if v is not None},
            "version": put.version or bump_version(old.version),
            "updated": now,
        }
    )


@router.get("")
async def list_triggers(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = own_namespace(caller, namespace)
    return await list_entities(
        svc, request, ns, "trigger", lambda d: Trigger.model_validate(d).summary()
    )


@router.get("/{name}")
async def get_trigger(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    trigger, _ = await require_trigger(svc, trigger_name(caller, namespace, name).doc_id)
    return json_response(200, trigger.to_json())


@router.put("/{name}")
async def put_trigger_route(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = trigger_name(caller, namespace, name)
    body = await json_body(request, 4 * ONE_MB)
    put = parse_model(TriggerPut, body)
    check_sizes(body)
    overwrite = flag(request.query_params, "overwrite")
    existing = await svc.store.entities.get(fqn.doc_id)
    now = int(time.time() * 1000)
    if existing is None:
        _check_feed(put)
        trigger, rev = make_trigger(fqn, put, now), None
    else:
        doc, rev = existing
        check_replace(doc, "trigger", overwrite)
        trigger = update_trigger(Trigger.model_validate(doc), put, now)
    await put_trigger(svc, trigger, rev)
    return json_response(200, trigger.to_json())


@router.delete("/{name}")
async def delete_trigger(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    fqn = trigger_name(caller, namespace, name)
    trigger, rev = await require_trigger(svc, fqn.doc_id)
    # Its rules stay, dangling: they read as inactive until linked to a new trigger.
    await delete_entity(svc, fqn.doc_id, rev)
    return json_response(200, trigger.to_json())


@router.post("/{name}")
async def fire(namespace: str, name: str, request: Request, caller: Caller, svc: Svc) -> Response:
    fqn = trigger_name(caller, namespace, name)
    payload = await json_body(request, svc.settings.payload_max)
    if not isinstance(payload, dict):
        raise errors.malformed("expected a JSON object")
    activation_id = await fire_trigger(
        svc,
        caller,
        fqn,
        payload,
        transid=responses.transid_of(request),
        headers=dict(request.headers),
    )
    return fire_answer(activation_id)
