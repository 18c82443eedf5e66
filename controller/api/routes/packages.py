"""/namespaces/{ns}/packages: list, get, put, delete packages and bindings (docs/openwhisk-compatibility.md §1.6).

Anyone may list another namespace's packages, and sees its public ones only; a package is
read through `resolve_package`, which decides who may see it. Writes are the owner's.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities import Binding, Identity, Package, PackagePut
from pywhisk.common.entities.package import is_feed, package_action
from pywhisk.common.names import InvalidName, QualifiedName, check_name
from pywhisk.controller.api.auth import Caller, Svc, own_namespace, resolve_namespace
from pywhisk.controller.api.listing import Page, flag
from pywhisk.controller.api.requests import check_sizes, json_body, parse_model
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core import errors
from pywhisk.controller.core.entity_writes import check_replace, delete_entity, put_entity
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.package_updates import RESERVED_NAMES, make_package, update_package
from pywhisk.controller.core.resolve import resolve_package
from pywhisk.controller.core.services import Services

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/packages")

ONE_MB = 1024 * 1024
EVERY = 2**31 - 1  # "no limit" for the store's list: a package's actions are listed whole

BINDING_MISSING = "Binding references a package that does not exist."
NOT_A_PACKAGE = "Cannot bind to a resource that is not a package."
BINDING_TO_BINDING = "Cannot bind to another package binding."
PACKAGE_TO_BINDING = "Resource is a package and cannot be converted into a binding."


def _name(name: str) -> str:
    try:
        return check_name(name)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None


@router.get("")
async def list_packages(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = resolve_namespace(caller, namespace)
    public_only = ns != caller.namespace  # OW's `packages-public` view for other namespaces
    page = Page.parse(request.query_params, "packages")
    entities = svc.store.entities
    if page.count:
        count = await entities.count(ns, "package", public_only=public_only)
        return json_response(200, {"packages": count})
    docs = await entities.list(
        ns, "package", skip=page.skip, limit=page.limit, public_only=public_only
    )
    return json_response(200, [Package.model_validate(d).summary() for d in docs])


async def _contents(svc: Services, package: Package) -> dict[str, list[dict[str, object]]]:
    docs = await svc.store.entities.list(
        package.namespace, "action", package=package.name, limit=EVERY
    )
    return {
        "actions": [package_action(d) for d in docs if not is_feed(d)],
        "feeds": [package_action(d) for d in docs if is_feed(d)],
    }


@router.get("/{name}")
async def get_package(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    found = await resolve_package(svc, resolve_namespace(caller, namespace), _name(name), caller)
    # A binding is shown as itself, with the bound package's parameters under its own and
    # the bound package's actions (OW mergePackageWithBinding).
    shown = found.package
    if found.binding is not None:
        shown = found.binding.model_copy(update={"parameters": found.parameters})
    return json_response(200, {**shown.to_json(), **await _contents(svc, found.package)})


async def _check_binding(svc: Services, caller: Identity, binding: Binding) -> None:
    """The bound package must be readable by the caller, a package, and not a binding."""
    if binding.namespace != caller.namespace:
        # Someone else's: absent, private, not a package or a binding all read as 403.
        await resolve_package(svc, binding.namespace, binding.name, caller)
        return
    found = await svc.entities.get(binding.doc_id)
    if found is None:
        raise ApiError(400, BINDING_MISSING)
    if found[0].get("entityType") != "package":
        raise ApiError(409, NOT_A_PACKAGE)
    if found[0].get("binding"):
        raise ApiError(400, BINDING_TO_BINDING)


async def _read_put(svc: Services, request: Request, caller: Identity) -> PackagePut:
    body = await json_body(request, 4 * ONE_MB)
    put = parse_model(PackagePut, body)
    check_sizes(body)
    if put.binding is None:
        return put
    ns = resolve_namespace(caller, put.binding.namespace)  # `_` is the caller's own
    bound = Binding(namespace=ns, name=_name(put.binding.name))
    return put.model_copy(update={"binding": bound})


@router.put("/{name}")
async def put_package(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = QualifiedName(own_namespace(caller, namespace, name), _name(name))
    if name in RESERVED_NAMES:
        raise ApiError(400, f"Package name '{name}' is reserved.")
    put = await _read_put(svc, request, caller)
    overwrite = flag(request.query_params, "overwrite")
    existing = await svc.store.entities.get(fqn.doc_id)
    now = int(time.time() * 1000)
    if existing is None:
        if put.binding is not None:
            await _check_binding(svc, caller, put.binding)
        package = make_package(fqn, put, now)
        rev = None
    else:
        doc, rev = existing
        check_replace(doc, "package", overwrite)
        old = Package.model_validate(doc)
        if put.binding is not None:
            if old.binding is None:
                raise ApiError(409, PACKAGE_TO_BINDING)
            await _check_binding(svc, caller, put.binding)
        package = update_package(old, put, now)
    await put_entity(svc, fqn.doc_id, {**package.to_json(), "entityType": "package"}, rev)
    if rev is not None:
        await svc.entity_changed(fqn.doc_id, rev)  # other controllers may have it cached
    return json_response(200, package.to_json())


@router.delete("/{name}")
async def delete_package(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = QualifiedName(own_namespace(caller, namespace, name), _name(name))
    force = flag(request.query_params, "force")
    found = await svc.store.entities.get(fqn.doc_id)
    if found is None:
        raise ApiError(404)
    doc, rev = found
    if doc.get("entityType") != "package":
        raise ApiError(409, errors.WRONG_COLLECTION)
    package = Package.model_validate(doc)
    if package.binding is None:  # a binding holds nothing: always deletable
        entities = svc.store.entities
        actions = await entities.list(fqn.namespace, "action", package=fqn.name, limit=EVERY)
        if actions and not force:
            noun = "entity" if len(actions) == 1 else "entities"
            raise ApiError(
                409,
                f"Package not empty (contains {len(actions)} {noun}). "
                "Set force param or delete package contents.",
            )
        for action in actions:
            action_id = f"{fqn.doc_id}/{action['name']}"
            hit = await entities.get(action_id)
            if hit is not None:
                await delete_entity(svc, action_id, hit[1])
                await svc.entity_changed(action_id, hit[1])
    await delete_entity(svc, fqn.doc_id, rev)
    await svc.entity_changed(fqn.doc_id, rev)
    return json_response(200, package.to_json())
