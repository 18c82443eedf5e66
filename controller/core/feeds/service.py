"""The feed providers of one controller: built where the application is assembled from
what they use (`Feeding`), and run as its background work."""

from __future__ import annotations

import logging
from typing import Any

from pywhisk.common.entities import Identity
from pywhisk.common.names import QualifiedName
from pywhisk.common.store.base import Conflict
from pywhisk.controller.core.capabilities import Feeding
from pywhisk.controller.core.feeds.alarms import AlarmScheduler
from pywhisk.controller.core.feeds.changes import ChangesFollowers
from pywhisk.controller.core.feeds.feed_hosts import HostPolicy
from pywhisk.controller.core.feeds.firing import TriggerFirer
from pywhisk.controller.core.feeds.lifecycle import AlarmsProvider, ChangesProvider, Provider
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry
from pywhisk.controller.core.triggers.firing import fire_trigger

log = logging.getLogger(__name__)

FIRE_GRACE = 2.0  # seconds a stopping controller waits for alarm fires under way


class Feeds:
    def __init__(self, svc: Feeding) -> None:
        self._svc = svc
        store, settings = svc.store, svc.settings
        hosts = HostPolicy.parse(
            settings.feed_allowed_hosts,
            (settings.effective_store_url, settings.queue_url, settings.discovery_url),
        )
        self.registries = {p: FeedRegistry(store, p) for p in ("alarms", "couchdb")}
        self.providers: dict[str, Provider] = {
            "alarms": AlarmsProvider(),
            "couchdb": ChangesProvider(policy=hosts),
        }
        fire = TriggerFirer(self._fire_trigger, svc.identities.by_namespace)
        self.alarms = AlarmScheduler(
            self.registries["alarms"], fire, self._delete_trigger, tick=settings.feed_tick
        )
        self.changes = ChangesFollowers(
            self.registries["couchdb"],
            fire,
            tick=settings.feed_tick,
            longpoll=settings.feed_longpoll,
            policy=hosts,
        )

    async def start(self) -> None:
        if self._svc.settings.feed_tick > 0:
            await self.alarms.start()
            await self.changes.start()

    def look_now(self, provider: str) -> None:
        """`provider`'s feed documents changed through this controller: look at once."""
        ticking = {"alarms": self.alarms, "couchdb": self.changes}.get(provider)
        if ticking is not None:
            ticking.look_now()

    async def stop(self) -> None:
        # A due time claimed is fired before the controller goes, unless its fire is stuck
        # retrying; a follower is ended at once (its long poll may wait for many seconds).
        await self.alarms.stop(grace=FIRE_GRACE)
        await self.changes.stop()

    async def _fire_trigger(
        self, owner: Identity, fqn: QualifiedName, payload: dict[str, Any], transid: str
    ) -> str | None:
        return await fire_trigger(self._svc, owner, fqn, payload, transid=transid)

    async def _delete_trigger(self, record: FeedRecord, with_rules: bool) -> None:
        """deleteAfterFire: the trigger, and with `rules` the rules it names, are removed."""
        entities = self._svc.store.entities
        trigger_id = f"{record.namespace}/{record.trigger}"
        found = await entities.get(trigger_id)
        if found is None or found[0].get("entityType") != "trigger":
            return
        doc, rev = found
        if with_rules:
            for rule in doc.get("rules") or {}:
                rule_id = str(rule).lstrip("/")
                hit = await entities.get(rule_id)
                if hit is not None and hit[0].get("entityType") == "rule":
                    await self._delete(rule_id, hit[1])
        await self._delete(trigger_id, rev)

    async def _delete(self, doc_id: str, rev: str) -> None:
        try:
            await self._svc.store.entities.delete(doc_id, rev)
        except Conflict:
            log.warning("deleteAfterFire: %s changed meanwhile; kept", doc_id)
            return
        finally:
            self._svc.entities.invalidate(doc_id)
        await self._svc.entity_changed(doc_id, rev)
