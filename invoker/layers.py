"""An action's layers (its `layers` annotation) read from the store for its containers.

Fetched once per action revision with the action itself (ActionCache), so warm runs never
touch the store, and merged into one tree (containers/layer_tree.py) that each new container
of the action gets before its /init; a layer updated later reaches new containers once the
action is prepared again (updated, or dropped from the cache). A layer that is missing,
another namespace's and not published, or not a usable zip makes every cold start fail with
the reason: a developer error, as a missing dependency is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pywhisk.common.entities.action import Action
from pywhisk.common.entities.layer import LAYER, InvalidLayer, layer_doc_id, layer_refs
from pywhisk.common.store.base import EntityStore
from pywhisk.invoker.containers.layer_tree import LayerError, LayerTree


async def resolve_layers(entities: EntityStore, action: Action) -> dict[str, Any]:
    """`{"layers": [{"name", "digest", "code"}, ...]}` in order, `{"layersError": why}`, or {}."""
    annotations = [pair.to_json() for pair in action.annotations]
    try:
        refs = layer_refs(annotations)
        found = []
        for ref in refs:
            doc_id = layer_doc_id(ref, action.namespace.partition("/")[0])
            hit = await entities.get(doc_id)
            doc = hit[0] if hit is not None else None
            own = doc_id.partition("/")[0] == action.namespace.partition("/")[0]
            if doc is None or doc.get("entityType") != LAYER or not (own or doc.get("publish")):
                raise InvalidLayer(f"The layer '{ref}' does not exist or is not shared.")
            found.append({"name": doc_id, "digest": doc["digest"], "code": doc["code"]})
    except InvalidLayer as exc:
        return {"layersError": str(exc)}
    return {"layers": found} if found else {}


async def prepare_layers(
    entities: EntityStore, action: Action, unpacked_max: int
) -> tuple[LayerTree | None, str | None]:
    """The action's merged layers (None: it names none), or why it cannot have them."""
    found = await resolve_layers(entities, action)
    if "layersError" in found:
        return None, found["layersError"]
    if not found:
        return None, None
    try:
        # Decoding megabytes of base64 and reading the central directories: off the loop.
        return await asyncio.to_thread(LayerTree.of, found["layers"], unpacked_max), None
    except LayerError as exc:
        return None, str(exc)
