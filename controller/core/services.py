"""Everything a request handler needs, built once per app and shared by the routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import InitVar, dataclass, field
from typing import Any, Protocol

from pywhisk.common.config import Settings
from pywhisk.common.messages import INVALIDATION_TOPIC, InvalidationMessage
from pywhisk.common.metrics import Metrics, create_metrics
from pywhisk.common.queue.base import Consumer, Queue
from pywhisk.common.runtimes import Manifest, default_manifest
from pywhisk.common.store.base import Store
from pywhisk.common.store.journal import ActivationJournal
from pywhisk.controller.core import gauges
from pywhisk.controller.core.balancer import Balancer, StaticBalancer
from pywhisk.controller.core.cache import EntityCache, IdentityCache
from pywhisk.controller.core.detached import Detached
from pywhisk.controller.core.placement import Placement
from pywhisk.controller.core.reroute import Rerouter
from pywhisk.controller.core.throttles import Throttles
from pywhisk.controller.core.tracker import ActivationTracker

log = logging.getLogger(__name__)


class Background(Protocol):
    """Work a controller runs beside its requests (the feed providers): started after the
    services, stopped before the running sequences drain."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Services:
    settings: Settings
    store: Store
    queue: Queue
    manifest: Manifest = field(default_factory=default_manifest)
    # Standalone passes the one its invoker counts into, so /metrics shows both.
    metrics: Metrics = field(default_factory=create_metrics)
    # Default: standalone's one in-process invoker; `pywhisk controller` passes a
    # ShardingBalancer over the cluster's invokers.
    use_balancer: InitVar[Balancer | None] = None

    def __post_init__(self, use_balancer: Balancer | None) -> None:
        self.identities = IdentityCache(self.store, metrics=self.metrics)
        self.entities = EntityCache(self.store, self.metrics)
        self.throttles = Throttles(self.settings, self.metrics)
        self.balancer: Balancer = use_balancer or StaticBalancer(
            self.queue, (self.settings.invoker_id,)
        )
        # In a cluster, what a gone invoker had not started goes to another one.
        rerouter = None if use_balancer is None else Rerouter(self.balancer, self.store, self.queue)
        self.tracker = ActivationTracker(
            self.queue,
            self.settings.controller_id,
            on_release=self.balancer.release,
            store=self.store,
            rerouter=rerouter,
            metrics=self.metrics,
        )
        self.balancer.watch(self.tracker)
        self.placement = Placement(self.balancer, self.tracker)
        gauges.register(self.metrics, self.settings.controller_id, self.tracker, self.balancer)
        # Where accepted activations are kept until recorded; set by the standalone preset,
        # whose queue keeps messages in memory (`controller/core/recovery.py`).
        self.journal: ActivationJournal | None = None
        # Sequences running in the controller; each ends by returning its record.
        self.detached: Detached[dict[str, Any]] = Detached()
        self._invalidations: Consumer | None = None
        self._forgetting: asyncio.Task[None] | None = None
        # Added where the application is assembled (`controller/api/app.py`: the feeds),
        # so that nothing here imports what runs on top of these services.
        self.background: list[Background] = []

    async def start(self) -> None:
        await self.balancer.start()
        await self.tracker.start()
        # Another controller's writes must not leave this one serving what it cached before
        # (a package made private, new parameters): OW's RemoteCacheInvalidation.
        group = f"controller{self.settings.controller_id}"
        # Not prompt: OpenWhisk's caches are eventually consistent too (a real Kafka
        # delivers at once all the same; tansu within a quarter of a second).
        self._invalidations = await self.queue.consumer(INVALIDATION_TOPIC, group, prompt=False)
        self._forgetting = asyncio.get_running_loop().create_task(
            self._forget_changed(self._invalidations)
        )
        for work in self.background:
            await work.start()

    async def _forget_changed(self, consumer: Consumer) -> None:
        async for payload in consumer:
            try:
                self.entities.invalidate(InvalidationMessage.from_bytes(payload).key)
            except ValueError:
                log.error("dropping a malformed invalidation message")
            await consumer.commit()

    async def entity_changed(self, doc_id: str, old_revision: str) -> None:
        """An entity was updated or deleted: tell the invokers, so they drop what they keep
        for the old revision (warm containers included), and the other controllers, so they
        drop their cached copy. Best effort: the write stands."""
        message = InvalidationMessage(key=doc_id, revision=old_revision)
        try:
            await self.queue.send(INVALIDATION_TOPIC, message.to_bytes())
        except Exception:
            log.warning(
                "could not announce the change of %s to the invokers", doc_id, exc_info=True
            )

    def stop_waiting(self) -> None:
        """Shutdown: blocking callers still waiting get their 202 with the activation id now."""
        self.tracker.stop_waiting()
        self.detached.stop_waiting()

    async def drain(self) -> None:
        """Shutdown: let running sequences finish (or end them, recorded) while the queue,
        the tracker and, in standalone, the invoker are still up to run their components.
        Background work stops first: no feed fires into a stopping controller."""
        for work in reversed(self.background):
            await work.stop()
        await self.detached.drain(self.settings.drain_timeout)

    async def stop(self) -> None:
        await self.drain()
        if self._invalidations is not None:
            await self._invalidations.close()
            self._invalidations = None
        if self._forgetting is not None:
            self._forgetting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._forgetting
            self._forgetting = None
        await self.tracker.stop()
        await self.balancer.stop()
