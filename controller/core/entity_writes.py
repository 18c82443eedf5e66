"""Writing and deleting entities at a revision, with OW's conflict answers (§1.3.1).

Every write drops the controller's cached copy, whether or not it went through: a conflict
means the cache may be stale too.
"""

from __future__ import annotations

from pywhisk.common.store.base import Conflict, Doc
from pywhisk.controller.core import errors
from pywhisk.controller.core.capabilities import EntityWrites
from pywhisk.controller.core.errors import ApiError


def check_replace(existing: Doc, entity_type: str, overwrite: bool) -> None:
    """A PUT onto an existing document: same collection, and `overwrite=true` (else 409)."""
    if existing.get("entityType") != entity_type:
        raise ApiError(409, errors.WRONG_COLLECTION)
    if not overwrite:
        raise ApiError(409, errors.CONFLICT)


async def put_entity(svc: EntityWrites, doc_id: str, doc: Doc, rev: str | None) -> None:
    """Create (`rev=None`: 409 if it exists by now) or replace at `rev` (409 if changed)."""
    try:
        with svc.metrics.timing("entity_put"):
            await svc.store.entities.put(doc_id, doc, rev)
    except Conflict:
        raise ApiError(409, errors.CONCURRENT_MODIFICATION if rev else errors.CONFLICT) from None
    finally:
        svc.entities.invalidate(doc_id)


async def delete_entity(svc: EntityWrites, doc_id: str, rev: str) -> None:
    try:
        with svc.metrics.timing("entity_delete"):
            await svc.store.entities.delete(doc_id, rev)
    except Conflict:
        raise ApiError(409, errors.CONCURRENT_MODIFICATION) from None
    finally:
        svc.entities.invalidate(doc_id)
