"""Where APIs live: one document per namespace in the entity store, beside the entities.

A namespace's APIs (every base path) are one document, `whisk.system/apis/<uuid>`, under
the collection `whisk.system/apis` with an entity type of its own, so both store backends
hold it without a new interface and no entity listing shows it (as feed documents do).
The key is the namespace's uuid, the *tenant* that public API URLs carry
(`/api/<uuid>/<base path>/…`, OpenWhisk's `gwApiUrl` with the CLI's `spaceguid`): the
gateway finds a request's APIs with one read, cached like entities and dropped when any
controller writes the document (the invalidation messages entities use). The document
also names its namespace; the gateway serves it only while that namespace's identity still
has this uuid, so a deleted and recreated namespace does not inherit its APIs.

Writes are read, change, replace at the revision read, retried on a conflict: two routes
created at once under one base path both land.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pywhisk.common.entities import Identity
from pywhisk.common.store.base import Conflict, Doc, Store
from pywhisk.controller.api.apigw.swagger import CompiledApi, compile_api

if TYPE_CHECKING:
    from pywhisk.controller.core.services import Services

HOLDER = "whisk.system/apis"
ENTITY_TYPE = "apis"
_ATTEMPTS = 10

Apis = dict[str, dict[str, Any]]  # base path → swagger


def doc_id(tenant: str) -> str:
    return f"{HOLDER}/{tenant}"


def _doc(identity: Identity, apis: Apis) -> Doc:
    return {
        "namespace": HOLDER,
        "name": identity.uuid,
        "entityType": ENTITY_TYPE,
        "updated": int(time.time() * 1000),
        "owner": identity.namespace,
        "apis": apis,
    }


async def read(store: Store, identity: Identity) -> Apis:
    """The caller's APIs, from the store itself (a write may follow)."""
    found = await store.entities.get(doc_id(identity.uuid))
    if found is None or found[0].get("owner") != identity.namespace:
        return {}
    return dict(found[0].get("apis") or {})


async def modify(
    store: Store, identity: Identity, change: Callable[[Apis], Apis]
) -> tuple[Apis, str | None]:
    """Write `change(apis)` over the caller's APIs, retrying on a concurrent write; the APIs
    written and the revision they replaced (None: there was no document). `change` may
    raise to refuse: nothing is written. Conflict when writers kept overtaking this one."""
    key = doc_id(identity.uuid)
    for attempt in range(_ATTEMPTS):
        if attempt:  # spread concurrent writers out
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        found = await store.entities.get(key)
        rev = found[1] if found else None
        current = dict(found[0].get("apis") or {}) if found else {}
        if found is not None and found[0].get("owner") != identity.namespace:
            current = {}  # a former namespace's leftovers under a reused uuid
        changed = change(current)
        try:
            if changed:
                await store.entities.put(key, _doc(identity, changed), rev)
            elif rev is not None:
                await store.entities.delete(key, rev)
        except Conflict:
            continue
        return changed, rev
    raise Conflict(key)


class CompiledCache:
    """Compiled routes per document revision, so a request does not recompile swagger."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._by_id: dict[str, tuple[str, tuple[CompiledApi, ...]]] = {}
        self._max = max_entries

    def get(self, key: str, rev: str, apis: Apis) -> tuple[CompiledApi, ...]:
        hit = self._by_id.get(key)
        if hit is not None and hit[0] == rev:
            return hit[1]
        compiled = tuple(compile_api(swagger) for swagger in apis.values())
        if len(self._by_id) >= self._max:
            self._by_id.clear()
        self._by_id[key] = (rev, compiled)
        return compiled


async def served(
    svc: Services, cache: CompiledCache, tenant: str
) -> tuple[Identity, tuple[CompiledApi, ...]] | None:
    """The owner and compiled APIs that `/api/<tenant>/…` serves, or None."""
    key = doc_id(tenant)
    found = await svc.entities.get(key)
    if found is None or found[0].get("entityType") != ENTITY_TYPE:
        return None
    doc, rev = found
    owner = await svc.identities.by_namespace(str(doc.get("owner")))
    if owner is None or owner.uuid != tenant:
        return None
    return owner, cache.get(key, rev, doc.get("apis") or {})
