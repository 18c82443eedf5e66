"""Read-through caches for the hot path: identities by key, entities by doc id.

Entities are invalidated by this controller's own writes (and, in a cluster, by the
invalidation messages other controllers send). Identities are cached for a short time
only, because `pywhisk admin` changes them from another process.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

from pydantic import BaseModel

from pywhisk.common.entities import Action, Identity, Package
from pywhisk.common.metrics import Metrics
from pywhisk.common.store.base import Doc, Store

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

IDENTITY_TTL = 10.0


class _TTLMap(Generic[T]):
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._items[key]
            return None
        return value

    def put(self, key: str, value: T) -> None:
        if len(self._items) >= self.max_entries:
            self._items.clear()  # crude but bounded; entries refill on demand
        self._items[key] = (time.monotonic() + self.ttl, value)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)


class IdentityCache:
    def __init__(
        self, store: Store, ttl: float = IDENTITY_TTL, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._metrics = metrics or Metrics()
        self._by_auth: _TTLMap[Identity] = _TTLMap(ttl)
        self._by_namespace: _TTLMap[Identity] = _TTLMap(ttl)

    async def by_auth(self, uuid: str, key: str) -> Identity | None:
        cache_key = f"{uuid}:{key}"
        identity = self._by_auth.get(cache_key)
        if identity is None:
            # Misses are not cached: a key created a moment ago must work at once.
            with self._metrics.timing("subject_get"):
                identity = await self._store.subjects.by_auth(uuid, key)
            if identity is not None:
                self._by_auth.put(cache_key, identity)
        return identity

    async def by_namespace(self, namespace: str) -> Identity | None:
        identity = self._by_namespace.get(namespace)
        if identity is None:
            with self._metrics.timing("subject_get"):
                identity = await self._store.subjects.by_namespace(namespace)
            if identity is not None:
                self._by_namespace.put(namespace, identity)
        return identity


class EntityCache:
    """doc id → (document, revision); actions and packages also kept parsed."""

    def __init__(self, store: Store, metrics: Metrics | None = None) -> None:
        self._store = store
        self._metrics = metrics or Metrics()
        self._docs: dict[str, tuple[Doc, str]] = {}
        self._actions: dict[str, tuple[Action, str]] = {}
        self._packages: dict[str, tuple[Package, str]] = {}
        # Bumped by every invalidation: a read that an invalidation overtook may hold what
        # was just replaced (a package made private), so it answers its caller but is not
        # kept, or the stale copy would be served until the next change.
        self._invalidations = 0

    async def get(self, doc_id: str) -> tuple[Doc, str] | None:
        hit = self._docs.get(doc_id)
        if hit is None:
            seen = self._invalidations
            with self._metrics.timing("entity_get"):
                hit = await self._store.entities.get(doc_id)
            if hit is not None and seen == self._invalidations:
                self._docs[doc_id] = hit
        return hit

    async def action(self, doc_id: str) -> tuple[Action, str] | None:
        """The action at `doc_id`, or None if absent or not an action."""
        return await self._parsed(doc_id, "action", Action, self._actions)

    async def package(self, doc_id: str) -> tuple[Package, str] | None:
        """The package (or binding) at `doc_id`, or None if absent or not a package."""
        return await self._parsed(doc_id, "package", Package, self._packages)

    async def _parsed(
        self, doc_id: str, entity_type: str, model: type[M], parsed: dict[str, tuple[M, str]]
    ) -> tuple[M, str] | None:
        hit = parsed.get(doc_id)
        if hit is not None:
            return hit
        seen = self._invalidations
        found = await self.get(doc_id)
        if found is None or found[0].get("entityType") != entity_type:
            return None
        hit = (model.model_validate(found[0]), found[1])
        if seen == self._invalidations:
            parsed[doc_id] = hit
        return hit

    def invalidate(self, doc_id: str) -> None:
        self._invalidations += 1
        self._docs.pop(doc_id, None)
        self._actions.pop(doc_id, None)
        self._packages.pop(doc_id, None)
