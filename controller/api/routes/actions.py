"""/namespaces/{ns}/actions: list, get, put, delete, invoke (docs/openwhisk-compatibility.md §1.3)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities import Action, ActionPut, Identity
from pywhisk.common.names import InvalidName, QualifiedName, check_name
from pywhisk.common.runtimes import SEQUENCE
from pywhisk.controller.api.auth import Caller, Svc, own_namespace, resolve_namespace
from pywhisk.controller.api.listing import Page, flag
from pywhisk.controller.api.requests import check_sizes, json_body, parse_model
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core.action_updates import make_action, update_action
from pywhisk.controller.core.archives import check_unpacked
from pywhisk.controller.core.entity_writes import check_replace, delete_entity, put_entity
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.resolve import (
    check_package,
    fetch_action,
    resolve_action,
    resolve_package,
)
from pywhisk.controller.core.sequences.run import check_put
from pywhisk.controller.core.services import Services

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/actions")

ONE_MB = 1024 * 1024


def qualify(
    caller: Identity,
    namespace: str,
    name: str,
    package: str | None = None,
    *,
    shared: bool = False,
) -> QualifiedName:
    """The name from the URL. Another namespace is refused here unless `shared` (a read or
    an invoke) and in a package: then `resolve_action` decides, as the package allows."""
    if shared and package is not None:
        ns = resolve_namespace(caller, namespace)
    else:
        ns = own_namespace(caller, namespace, f"{package}/{name}" if package else name)
    try:
        check_name(name)
        if package is not None:
            check_name(package)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None
    return QualifiedName(ns, name, package)


async def _list(svc: Services, request: Request, ns: str, package: str | None) -> Response:
    page = Page.parse(request.query_params, "actions")
    if page.count:
        return json_response(
            200, {"actions": await svc.store.entities.count(ns, "action", package=package)}
        )
    docs = await svc.store.entities.list(
        ns, "action", package=package, skip=page.skip, limit=page.limit
    )
    return json_response(200, [Action.model_validate(d).summary() for d in docs])


@router.get("")
async def list_actions(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    return await _list(svc, request, own_namespace(caller, namespace), None)


@router.get("/{package}/")
async def list_package_actions(
    namespace: str, package: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    ns = resolve_namespace(caller, namespace)
    try:
        check_name(package)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None
    # A binding lists the bound package's actions (their namespace shows where they live).
    holder = (await resolve_package(svc, ns, package, caller)).package
    return await _list(svc, request, holder.namespace, holder.name)


async def _get(svc: Services, request: Request, caller: Identity, fqn: QualifiedName) -> Response:
    action = (await resolve_action(svc, fqn, caller)).action
    return json_response(200, action.to_json(with_code=flag(request.query_params, "code", True)))


async def _put(svc: Services, request: Request, caller: Identity, fqn: QualifiedName) -> Response:
    s = svc.settings
    body = await json_body(request, s.exec_max + 2 * ONE_MB)
    put = parse_model(ActionPut, body)
    if put.exec is not None and put.exec.code is not None and len(put.exec.code) > s.exec_max:
        raise ApiError(413, f"exec larger than allowed: {len(put.exec.code)} > {s.exec_max} bytes.")
    check_sizes(body)
    await check_package(svc, fqn, for_write=True)
    overwrite = flag(request.query_params, "overwrite")
    existing = await svc.store.entities.get(fqn.doc_id)
    now = int(time.time() * 1000)
    if existing is None:
        action = make_action(fqn, put, svc.manifest, s.limit_ranges, now)
        rev = None
    else:
        doc, rev = existing
        check_replace(doc, "action", overwrite)
        action = update_action(Action.model_validate(doc), put, svc.manifest, s.limit_ranges, now)
    if put.exec is not None and action.exec.kind == SEQUENCE:
        await check_put(svc, caller, action)
    if put.exec is not None:
        await check_unpacked(action.exec, s.zip_unpacked_max)
    await put_entity(svc, fqn.doc_id, {**action.to_json(), "entityType": "action"}, rev)
    if rev is not None:
        await svc.entity_changed(fqn.doc_id, rev)
    return json_response(200, action.to_json())


async def _delete(svc: Services, fqn: QualifiedName) -> Response:
    action, rev = await fetch_action(svc, fqn)
    await delete_entity(svc, fqn.doc_id, rev)
    await svc.entity_changed(fqn.doc_id, rev)
    return json_response(200, action.to_json())


# Routes for `{name}` and `{package}/{name}` share the handlers above.


@router.get("/{name}")
async def get_action(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    return await _get(svc, request, caller, qualify(caller, namespace, name))


@router.get("/{package}/{name}")
async def get_package_action(
    namespace: str, package: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    return await _get(svc, request, caller, qualify(caller, namespace, name, package, shared=True))


@router.put("/{name}")
async def put_action(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    return await _put(svc, request, caller, qualify(caller, namespace, name))


@router.put("/{package}/{name}")
async def put_package_action(
    namespace: str, package: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    return await _put(svc, request, caller, qualify(caller, namespace, name, package))


@router.delete("/{name}")
async def delete_action(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    return await _delete(svc, qualify(caller, namespace, name))


@router.delete("/{package}/{name}")
async def delete_package_action(
    namespace: str, package: str, name: str, caller: Caller, svc: Svc
) -> Response:
    return await _delete(svc, qualify(caller, namespace, name, package))
