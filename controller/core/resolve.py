"""From a name a caller used to the action that runs (docs/openwhisk-compatibility.md §1.6, §5, §6.4).

One place for every way in: the invoke route, web actions, sequence components and rules
all ask `resolve_action`, so package membership, bindings and the package < binding <
action parameter order are decided once. Given the caller, it also decides entitlement
as OW's PackageCollection does: another namespace's package is readable (and its actions
invokable) only when it is public and not a binding, and a binding is only as readable as
the package it binds.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywhisk.common.entities import Action, Identity, Package
from pywhisk.common.entities import params as P
from pywhisk.common.names import QualifiedName
from pywhisk.controller.core import errors
from pywhisk.controller.core.capabilities import EntityReads
from pywhisk.controller.core.errors import ApiError

# A binding is never created to a binding, but the bound package can be deleted and
# re-created as one; this bounds how far such a chain is followed.
_MAX_BINDING_HOPS = 8


@dataclass(frozen=True, slots=True)
class Resolved:
    """The action to run: its parameters already merged as the invoke path must use them."""

    action: Action
    revision: str
    binding: str | None = None  # `ns/binding` when reached through a package binding


@dataclass(frozen=True, slots=True)
class ResolvedPackage:
    """The package that holds the actions, and the binding it was reached through."""

    package: Package
    binding: Package | None = None
    parameters: P.Params = ()  # package < binding(s)


async def check_package(svc: EntityReads, fqn: QualifiedName, for_write: bool) -> None:
    if fqn.package is None:
        return
    found = await svc.entities.get(f"{fqn.namespace}/{fqn.package}")
    if found is None or found[0].get("entityType") != "package":
        raise ApiError(404)
    if for_write and found[0].get("binding"):
        raise ApiError(400, "Operation not permitted on package binding.")


async def fetch_action(svc: EntityReads, fqn: QualifiedName) -> tuple[Action, str]:
    hit = await svc.entities.action(fqn.doc_id)
    if hit is None:
        other = await svc.entities.get(fqn.doc_id)
        if other is not None:
            raise ApiError(409, errors.WRONG_COLLECTION)
        raise ApiError(404)
    return hit


async def _package(svc: EntityReads, doc_id: str, owner: bool, denied: str) -> Package:
    """The package at `doc_id`; to anyone but its owner, absent and wrong-type both read
    as 403, so other namespaces learn nothing about what a namespace holds."""
    hit = await svc.entities.package(doc_id)
    if hit is not None:
        return hit[0]
    if not owner:
        raise errors.not_authorized(denied)
    if await svc.entities.get(doc_id) is not None:
        raise ApiError(409, errors.WRONG_COLLECTION)
    raise ApiError(404)


async def resolve_package(
    svc: EntityReads,
    namespace: str,
    name: str,
    caller: Identity | None = None,
    denied: str | None = None,
) -> ResolvedPackage:
    """The package `namespace/name` names, following a binding to the bound package.

    Without `caller` nothing is checked but existence. With it, a refusal is a 403 naming
    `denied` (default: the package).
    """
    denied = denied or f"{namespace}/{name}"
    doc_id = f"{namespace}/{name}"
    owner = caller is None or caller.namespace == namespace
    package = await _package(svc, doc_id, owner, denied)
    binding: Package | None = None
    parameters = package.parameters
    for _ in range(_MAX_BINDING_HOPS):
        if package.binding is None:
            if not (owner or package.publish):
                raise errors.not_authorized(denied)
            return ResolvedPackage(package, binding, parameters)
        if not owner:
            raise errors.not_authorized(denied)  # a binding is private to its namespace
        target = package.binding
        if target.doc_id == package.doc_id:
            raise ApiError(
                422, f"Package binding '/{target.doc_id}' contains a circular reference."
            )
        binding = binding or package
        owner = caller is None or caller.namespace == target.namespace
        package = await _package(svc, target.doc_id, owner, denied)
        parameters = P.merge(package.parameters, parameters)
    raise ApiError(422, f"Package binding '/{doc_id}' contains a circular reference.")


async def resolve_action(
    svc: EntityReads, fqn: QualifiedName, caller: Identity | None = None
) -> Resolved:
    """The action `fqn` names, ready to invoke; 404 when it (or its package) does not exist.

    Through a binding this is the bound package's action, with parameters merged package <
    binding < action, and `binding` set. With `caller`, entitlement is checked too (403).
    """
    if fqn.package is None:
        if caller is not None and caller.namespace != fqn.namespace:
            raise errors.not_authorized(fqn.doc_id)  # the default package is always private
        action, revision = await fetch_action(svc, fqn)
        return Resolved(action, revision)
    found = await resolve_package(svc, fqn.namespace, fqn.package, caller, fqn.doc_id)
    holder = found.package
    action, revision = await fetch_action(
        svc, QualifiedName(holder.namespace, fqn.name, holder.name)
    )
    if found.parameters:
        merged = P.merge(found.parameters, action.parameters)
        action = action.model_copy(update={"parameters": merged})
    binding = found.binding.doc_id if found.binding is not None else None
    return Resolved(action, revision, binding)
