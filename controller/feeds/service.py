"""The feed providers of one controller, built from its services and run with its lifespan."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from common.entities import Identity
from common.names import QualifiedName
from common.store.base import Conflict
from controller.feeds.alarms import AlarmScheduler
from controller.feeds.changes import ChangesFollowers
from controller.feeds.firing import TriggerFirer
from controller.feeds.lifecycle import AlarmsProvider, ChangesProvider, Provider
from controller.feeds.registry import FeedRecord, FeedRegistry

if TYPE_CHECKING:
    from controller.services import Services

log = logging.getLogger(__name__)


class Feeds:
    def __init__(self, svc: Services) -> None:
        self._svc = svc
        store, settings = svc.store, svc.settings
        self.registries = {p: FeedRegistry(store, p) for p in ("alarms", "couchdb")}
        self.providers: dict[str, Provider] = {
            "alarms": AlarmsProvider(),
            "couchdb": ChangesProvider(),
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
        )

    async def start(self) -> None:
        if self._svc.settings.feed_tick > 0:
            await self.alarms.start()
            await self.changes.start()

    async def stop(self) -> None:
        await self.alarms.stop()
        await self.changes.stop()

    async def _fire_trigger(
        self, owner: Identity, fqn: QualifiedName, payload: dict[str, Any], transid: str
    ) -> str | None:
        # controller.firing lands with triggers and rules; imported late so that the feeds
        # do not depend on import order.
        firing = importlib.import_module("controller.firing")
        result: str | None = await firing.fire_trigger(
            self._svc, owner, fqn, payload, transid=transid
        )
        return result

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
                    try:
                        await entities.delete(rule_id, hit[1])
                    except Conflict:
                        log.warning("deleteAfterFire: rule %s changed meanwhile; kept", rule_id)
                    self._svc.entities.invalidate(rule_id)
        try:
            await entities.delete(trigger_id, rev)
        except Conflict:
            log.warning("deleteAfterFire: trigger %s changed meanwhile; kept", trigger_id)
        self._svc.entities.invalidate(trigger_id)
