"""What the core asks of the controller it runs in: small interfaces, one per capability.

Each function and class of the core takes only the capabilities it uses, as one of the
protocols below (or a union of them declared here), never the whole `Services`: a piece can
then be built and tested from just what it needs, and reading a signature says what it
touches (resolving an action reads cached entities and nothing else; firing a trigger also
throttles, invokes and writes records).

`Services` (`controller/core/services.py`) is the one composition that provides them all; it
is built where the application is assembled (`controller/api/app.py`, `deploy/standalone.py`,
`controller/cluster.py`). Members are read-only properties, so a plain dataclass or an object
with attributes of these types satisfies a protocol too.

Capabilities, and who uses them:

| protocol | offers | used by |
|---|---|---|
| `Configured` | the controller's `Settings` | primitive, sequences, feeds |
| `Metered` | the metrics timings | entity writes, records |
| `EntityReads` | entities by id through the cache | resolve, sequences |
| `StoredEntities` | entity documents in the store itself (no cache) | trigger docs, feeds |
| `RecordWrites` | activation records: put, get, settle | sequences, triggers, recovery |
| `Placing` | post an activation to an invoker, its answer awaited | primitive, recovery |
| `Journaling` | the journal of accepted activations (standalone) | primitive |
| `Limits` | per-namespace throttles and in-flight counts | invoke, trigger firing |
| `Detaching` | work that outlives its caller's wait, drained at stop | sequences, trigger firing |

Each part takes the union of the capabilities it uses, declared at the end of this module
(`Publishing` for a primitive action, `SequenceRunning`, `Invoking`, `Firing`, `Feeding`, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from pywhisk.common.config import Settings
from pywhisk.common.entities import Action, Identity, Package
from pywhisk.common.messages import ActivationMessage
from pywhisk.common.metrics import Metrics
from pywhisk.common.store.base import ActivationStore, Doc, EntityStore, Store
from pywhisk.common.store.journal import ActivationJournal

# The future a blocking caller's record arrives on (None: forced off without one).
Answer = asyncio.Future[dict[str, Any] | None]


# -- the pieces (satisfied by EntityCache, Placement, Throttles, ActivationTracker, Detached) --


class CachedEntities(Protocol):
    async def get(self, doc_id: str) -> tuple[Doc, str] | None: ...

    async def action(self, doc_id: str) -> tuple[Action, str] | None: ...

    async def package(self, doc_id: str) -> tuple[Package, str] | None: ...

    def invalidate(self, doc_id: str) -> None: ...


class Placer(Protocol):
    async def place(
        self,
        message: ActivationMessage,
        *,
        blocking: bool,
        timeout_ms: int,
        memory: int = 256,
        blackbox: bool = False,
        internal: bool = False,
    ) -> Answer | None: ...


class Throttler(Protocol):
    def check_invoke(self, identity: Identity, in_flight: int) -> None: ...

    def check_fire(self, identity: Identity) -> None: ...

    def refund(self, kind: str, namespace: str) -> None: ...


class InFlight(Protocol):
    def in_flight(self, namespace: str) -> int: ...


class TaskKeeper(Protocol):
    def spawn(self, work: Coroutine[Any, Any, dict[str, Any]]) -> asyncio.Task[dict[str, Any]]: ...

    async def wait(
        self, task: asyncio.Task[dict[str, Any]], seconds: float
    ) -> dict[str, Any] | None: ...


class EntityDocs(Protocol):
    @property
    def entities(self) -> EntityStore: ...


class RecordDocs(Protocol):
    @property
    def activations(self) -> ActivationStore: ...


class EntityAndRecordDocs(EntityDocs, RecordDocs, Protocol):
    """What a `Store` is to a piece that both reads entities and writes records."""


# -- the capabilities ------------------------------------------------------------------------


class Configured(Protocol):
    @property
    def settings(self) -> Settings: ...


class Metered(Protocol):
    @property
    def metrics(self) -> Metrics: ...


class EntityReads(Protocol):
    @property
    def entities(self) -> CachedEntities: ...


class StoredEntities(Protocol):
    @property
    def store(self) -> EntityDocs: ...


class RecordWrites(Protocol):
    @property
    def store(self) -> RecordDocs: ...


class Placing(Protocol):
    @property
    def placement(self) -> Placer: ...


class Journaling(Protocol):
    @property
    def journal(self) -> ActivationJournal | None: ...


class Limits(Protocol):
    @property
    def throttles(self) -> Throttler: ...

    @property
    def tracker(self) -> InFlight: ...


class Detaching(Protocol):
    @property
    def detached(self) -> TaskKeeper: ...


# -- what each part of the core takes: the union of what it uses -----------------------------


class StoreAndCache(StoredEntities, EntityReads, Protocol):
    """Writing an entity in the store and dropping the cached copy (a trigger's links)."""


class EntityWrites(StoreAndCache, Metered, Protocol):
    """Writing an entity as the routes do: also timed."""


class Promising(Configured, Journaling, Protocol):
    """Journaling an accepted activation in this controller's name."""


class Publishing(Promising, Placing, Protocol):
    """Running one primitive action (`controller/core/primitive.py`)."""


class Replaying(Placing, RecordWrites, Protocol):
    """Settling the journal at start (`controller/core/recovery.py`)."""


class SequenceRunning(Publishing, EntityReads, RecordWrites, Metered, Detaching, Protocol):
    """Running a sequence (`controller/core/sequences/run.py`): its components are resolved
    and published, its record written, its run detached from a caller that stops waiting."""


class Invoking(SequenceRunning, Limits, Protocol):
    """Invoking any action, throttled (`controller/core/invoke.py`)."""


class Firing(Invoking, Protocol):
    """Firing a trigger (`controller/core/triggers/firing.py`): read from the store, rules'
    actions invoked, the trigger's record written."""

    @property
    def store(self) -> EntityAndRecordDocs: ...


class IdentityReads(Protocol):
    async def by_namespace(self, namespace: str) -> Identity | None: ...


class Feeding(Firing, Protocol):
    """The feed providers (`controller/core/feeds/service.py`): their registries keep their
    documents and claims in the store; they fire as the trigger's owner, and a
    deleteAfterFire is announced like any other entity change."""

    @property
    def store(self) -> Store: ...

    @property
    def identities(self) -> IdentityReads: ...

    async def entity_changed(self, doc_id: str, old_revision: str) -> None: ...
