"""Trigger documents: reading them, and the writes others make to them. A rule's status
lives in its trigger's `rules` map (docs/openwhisk-compatibility.md §1.5), so linking, relinking and unlinking a
rule are trigger writes, as are a webhook's rotation and revocation.

Several of those may happen at once (two `wsk rule create` on one trigger), so each is
written at the trigger's current revision and retried on a conflict with the trigger read
afresh: no writer's change is lost.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from pywhisk.common.entities import RuleLink, Trigger
from pywhisk.common.entities.trigger import INACTIVE, RuleStatus
from pywhisk.common.store.base import Conflict
from pywhisk.controller.core import errors
from pywhisk.controller.core.capabilities import EntityWrites, StoreAndCache, StoredEntities
from pywhisk.controller.core.entity_writes import put_entity
from pywhisk.controller.core.errors import ApiError

_ATTEMPTS = 10


async def fetch_trigger(svc: StoredEntities, doc_id: str) -> tuple[Trigger, str] | None:
    """The trigger at `doc_id` from the store itself (not the cache: it is about to be
    written), or None if there is none (or something else is there)."""
    found = await svc.store.entities.get(doc_id)
    if found is None or found[0].get("entityType") != "trigger":
        return None
    return Trigger.model_validate(found[0]), found[1]


async def require_trigger(svc: StoredEntities, doc_id: str) -> tuple[Trigger, str]:
    """The trigger at `doc_id`: 404 if absent, 409 if another kind of entity is there.

    Read from the store, not the controller's cache: in a cluster another controller may
    have just disabled one of its rules, and a fire must not run a disabled rule."""
    found = await svc.store.entities.get(doc_id)
    if found is None:
        raise ApiError(404)
    if found[0].get("entityType") != "trigger":
        raise ApiError(409, errors.WRONG_COLLECTION)
    return Trigger.model_validate(found[0]), found[1]


def status_in(trigger: Trigger | None, rule_id: str) -> RuleStatus:
    """A rule's status: its link's, or inactive when the trigger or the link is gone."""
    if trigger is None or trigger.rules is None or rule_id not in trigger.rules:
        return INACTIVE
    return trigger.rules[rule_id].status


async def modify_trigger(
    svc: StoreAndCache, trigger_id: str, change: Callable[[Trigger], Trigger]
) -> Trigger | None:
    """Write `change(trigger)` over the trigger, retrying on a concurrent write; the trigger
    written, or None if there is no such trigger."""
    for attempt in range(_ATTEMPTS):
        if attempt:  # after a conflict: back off a random while, so writers spread out
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        found = await fetch_trigger(svc, trigger_id)
        if found is None:
            return None
        trigger, rev = found
        changed = change(trigger)
        try:
            await svc.store.entities.put(trigger_id, changed.to_doc(), rev)
        except Conflict:
            continue
        finally:
            svc.entities.invalidate(trigger_id)
        return changed
    raise ApiError(409, errors.CONCURRENT_MODIFICATION)


async def set_link(
    svc: StoreAndCache, trigger_id: str, rule_id: str, link: RuleLink | None
) -> bool:
    """Link `rule_id` into the trigger as `link` (None: unlink). False if no such trigger."""
    changed = await modify_trigger(svc, trigger_id, lambda t: t.with_link(rule_id, link))
    return changed is not None


async def put_trigger(svc: EntityWrites, trigger: Trigger, rev: str | None) -> None:
    await put_entity(svc, trigger.doc_id, trigger.to_doc(), rev)
