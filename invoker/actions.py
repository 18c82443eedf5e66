"""Actions as the invoker needs them: fetched by doc id, cached by revision.

The warm path must not touch the store: a message names the action's doc id and revision, and
a cached `PreparedAction` at that revision is used as is. A different revision means the action
was updated: fetch the latest (OW retries with the latest on a revision mismatch), so the
message is served with the newest code. Concurrent misses for one action share one fetch.

In standalone the controller beside the invoker has just read and parsed the action to
publish its message: `parsed` (its entity cache) hands that over, so a new action's first
invoke does not read it from the store and parse it a second time.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pydantic import ValidationError

from pywhisk.common.entities.action import Action
from pywhisk.common.metrics import Metrics
from pywhisk.common.store.base import EntityStore
from pywhisk.invoker.layers import prepare_layers
from pywhisk.invoker.records import PreparedAction

_MAX_ENTRIES = 4096


class ParsedActions(Protocol):
    """Actions already read and parsed in this process (the controller's entity cache)."""

    async def action(self, doc_id: str) -> tuple[Action, str] | None:
        """The newest action at `doc_id` and its revision; None if gone or not an action."""
        ...


class ActionCache:
    def __init__(
        self,
        entities: EntityStore,
        unpacked_max: int,
        metrics: Metrics | None = None,
        parsed: ParsedActions | None = None,
    ) -> None:
        """`unpacked_max`: how many bytes an action's layers may unpack to; `parsed`:
        where actions are read first (standalone), else from `entities`."""
        self._entities = entities
        self._parsed = parsed
        self._unpacked_max = unpacked_max
        self._metrics = metrics or Metrics()
        self._cache: dict[str, PreparedAction] = {}
        self._loading: dict[str, asyncio.Future[PreparedAction | None]] = {}

    async def get(self, doc_id: str, revision: str) -> PreparedAction | None:
        """The action at `revision` (or the latest), None if it is gone or not an action."""
        cached = self._cache.get(doc_id)
        if cached is not None and cached.revision == revision:
            return cached
        loading = self._loading.get(doc_id)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[doc_id] = loading
            try:
                loading.set_result(await self._fetch(doc_id))
            except asyncio.CancelledError:
                loading.cancel()
                raise
            except Exception as exc:
                loading.set_exception(exc)
                loading.exception()  # retrieved: the waiters (if any) re-raise it themselves
                raise
            finally:
                del self._loading[doc_id]
            return loading.result()
        return await asyncio.shield(loading)

    def forget(self, doc_id: str) -> None:
        self._cache.pop(doc_id, None)

    async def _fetch(self, doc_id: str) -> PreparedAction | None:
        found = await self._read(doc_id)
        if found is None:
            self._cache.pop(doc_id, None)
            return None
        action, rev = found
        layers, problem = await prepare_layers(self._entities, action, self._unpacked_max)
        prepared = PreparedAction.of(action, rev, layers=layers, layers_error=problem)
        if len(self._cache) >= _MAX_ENTRIES:
            self._cache.pop(next(iter(self._cache)))
        self._cache[doc_id] = prepared
        return prepared

    async def _read(self, doc_id: str) -> tuple[Action, str] | None:
        if self._parsed is not None:
            return await self._parsed.action(doc_id)
        with self._metrics.timing("entity_get"):
            found = await self._entities.get(doc_id)
        if found is None:
            return None
        doc, rev = found
        if doc.get("entityType", "action") != "action":
            return None
        try:
            return Action.model_validate(doc), rev
        except ValidationError:
            return None
