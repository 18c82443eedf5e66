"""What each feed lifecycle event does to a feed document (docs/openwhisk-compatibility.md §6.3).

CREATE validates and registers (replacing a leftover of a trigger deleted without its
feed), READ answers `{config, status}` as OpenWhisk's alarms and Cloudant feeds do,
UPDATE changes what may change, DELETE removes (idempotent: a feed that already ended
with its trigger is no error), PAUSE and UNPAUSE switch the feed off and on. OpenWhisk's
alarms reject PAUSE/UNPAUSE; here a paused feed skips what happens while it is paused:
alarms due meanwhile are not fired on UNPAUSE, and a changes feed resumes at the
database's current sequence.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

import httpx

from pywhisk.common.store.base import Conflict
from pywhisk.controller.core.feeds import alarm_spec, changes_spec
from pywhisk.controller.core.feeds.alarm_spec import FeedRefused, bad
from pywhisk.controller.core.feeds.changes import ClientFactory, current_seq, default_client
from pywhisk.controller.core.feeds.feed_hosts import HostPolicy
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry

EVENTS = ("CREATE", "READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE")
SUCCESS = {"status": "success"}
PAUSED = "USER"  # status.reason.kind of a feed paused by its owner


class Provider(Protocol):
    async def create(
        self, params: dict[str, Any], now: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(config, initial state) for a new feed."""

    def update(self, record: FeedRecord, params: dict[str, Any], now: int) -> FeedRecord: ...

    async def resume(self, record: FeedRecord, now: int) -> dict[str, Any]:
        """The state an UNPAUSEd feed carries on from."""

    def describe(self, config: dict[str, Any]) -> dict[str, Any]: ...


class AlarmsProvider:
    async def create(
        self, params: dict[str, Any], now: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return alarm_spec.create_config(params, now), {"lastDue": now, "fired": 0}

    def update(self, record: FeedRecord, params: dict[str, Any], now: int) -> FeedRecord:
        # The new schedule applies from now: no due time of it before the update fires.
        last = max(int(record.state.get("lastDue", now)), now)
        config = alarm_spec.update_config(record.config, params, now)
        return replace(record, config=config, state={**record.state, "lastDue": last})

    async def resume(self, record: FeedRecord, now: int) -> dict[str, Any]:
        return {**record.state, "lastDue": now}

    def describe(self, config: dict[str, Any]) -> dict[str, Any]:
        return alarm_spec.describe(config)


class ChangesProvider:
    def __init__(
        self, client: ClientFactory = default_client, policy: HostPolicy | None = None
    ) -> None:
        self._client = client
        self._policy = policy or HostPolicy()

    async def _seq_now(self, config: dict[str, Any]) -> Any:
        client: httpx.AsyncClient
        async with self._client(15.0) as client:
            return await current_seq(client, config, self._policy)

    async def create(
        self, params: dict[str, Any], now: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        config = changes_spec.create_config(params)
        seq = await self._seq_now(config)  # also checks the database can be read
        since = params.get("since")
        start = seq if since in (None, "", "now") else since
        return config, {"since": start, "fired": 0}

    def update(self, record: FeedRecord, params: dict[str, Any], now: int) -> FeedRecord:
        return replace(record, config=changes_spec.update_config(record.config, params))

    async def resume(self, record: FeedRecord, now: int) -> dict[str, Any]:
        return {**record.state, "since": await self._seq_now(record.config)}

    def describe(self, config: dict[str, Any]) -> dict[str, Any]:
        return changes_spec.describe(config)


def paused(record: FeedRecord) -> bool:
    return not record.active and (record.reason or {}).get("kind") == PAUSED


async def handle(
    registry: FeedRegistry,
    provider: Provider,
    namespace: str,
    trigger: str,
    event: str,
    params: dict[str, Any],
    now: int,
) -> dict[str, Any]:
    """Apply `event`; the answer's body, or FeedRefused."""
    if event == "CREATE":
        config, state = await provider.create(params, now)
        await registry.remove(namespace, trigger)
        new = FeedRecord(
            registry.provider, namespace, trigger, config, state, changed=now, created=now
        )
        try:
            await registry.put(new)
        except Conflict:
            raise FeedRefused(
                409, f"a feed for /{namespace}/{trigger} was created meanwhile"
            ) from None
        return SUCCESS
    if event == "DELETE":
        await registry.remove(namespace, trigger)
        return SUCCESS
    for _ in range(5):  # the rest read, change and write back: again if a claim came between
        record = await registry.get(namespace, trigger)
        if record is None:
            raise FeedRefused(404, f"there is no feed for the trigger /{namespace}/{trigger}")
        if event == "READ":
            config = {"name": trigger, "namespace": namespace, **provider.describe(record.config)}
            return {"config": config, "status": record.status_json()}
        if event == "UPDATE":
            changed = provider.update(record, params, now)
            if not paused(record):  # one switched off by itself (say, at maxTriggers) restarts
                changed = replace(changed, active=True, reason=None, changed=now)
        elif event == "PAUSE":
            changed = record.disabled("paused (lifecycle event PAUSE)", kind=PAUSED)
        elif event == "UNPAUSE":
            state = await provider.resume(record, now)
            changed = replace(record, state=state, active=True, reason=None, changed=now)
        else:
            raise bad("unsupported lifecycleEvent")
        try:
            await registry.put(changed)
            return SUCCESS
        except Conflict:
            continue
    raise FeedRefused(409, "Concurrent modification to resource detected.")
