"""Everything a request handler needs, built once per app and shared by the routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from common.config import Settings
from common.queue.base import Queue
from common.runtimes import Manifest, default_manifest
from common.store.base import Store
from controller.balancer import StaticBalancer
from controller.cache import EntityCache, IdentityCache
from controller.throttles import Throttles
from controller.tracker import ActivationTracker


@dataclass
class Services:
    settings: Settings
    store: Store
    queue: Queue
    manifest: Manifest = field(default_factory=default_manifest)

    def __post_init__(self) -> None:
        self.identities = IdentityCache(self.store)
        self.entities = EntityCache(self.store)
        self.throttles = Throttles(self.settings)
        self.tracker = ActivationTracker(self.queue, self.settings.controller_id)
        self.balancer = StaticBalancer(self.queue, (self.settings.invoker_id,))

    async def start(self) -> None:
        await self.tracker.start()

    async def stop(self) -> None:
        await self.tracker.stop()


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs sync dependencies on a thread pool, a hop per request.
    return request.app.state.services  # type: ignore[no-any-return]
