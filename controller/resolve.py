"""From a name a caller used to the action that runs (OPENWHISK.md §1.6, §5).

One place for every way in: the invoke route, web actions, sequence components and rules
all ask `resolve_action`, so package membership, bindings and the package < binding <
action parameter order are decided once.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.entities import Action
from common.names import QualifiedName
from controller import errors
from controller.errors import ApiError
from controller.services import Services


@dataclass(frozen=True, slots=True)
class Resolved:
    """The action to run: its parameters already merged as the invoke path must use them."""

    action: Action
    revision: str
    binding: str | None = None  # `ns/binding` when reached through a package binding


async def check_package(svc: Services, fqn: QualifiedName, for_write: bool) -> None:
    if fqn.package is None:
        return
    found = await svc.entities.get(f"{fqn.namespace}/{fqn.package}")
    if found is None or found[0].get("entityType") != "package":
        raise ApiError(404)
    if for_write and found[0].get("binding"):
        raise ApiError(400, "Operation not permitted on package binding.")


async def fetch_action(svc: Services, fqn: QualifiedName) -> tuple[Action, str]:
    hit = await svc.entities.action(fqn.doc_id)
    if hit is None:
        other = await svc.entities.get(fqn.doc_id)
        if other is not None:
            raise ApiError(409, errors.WRONG_COLLECTION)
        raise ApiError(404)
    return hit


async def resolve_action(svc: Services, fqn: QualifiedName) -> Resolved:
    """The action `fqn` names, ready to invoke; 404 when it (or its package) does not exist."""
    await check_package(svc, fqn, for_write=False)
    action, revision = await fetch_action(svc, fqn)
    return Resolved(action, revision)
