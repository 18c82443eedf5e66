"""Database-changes followers: a trigger fired once for every change of a CouchDB database.

Every controller runs one follower per active changes feed. A follower long-polls the
database's `_changes` from the sequence its feed document holds, and for each change in
order claims it (writes that change's `seq` as the feed's progress, at the revision it
read) and then fires the trigger with the change (`id`, `seq`, `changes`, `deleted`) plus
`dbname`, over the feed's `trigger_payload`. A controller whose claim loses (another one
fired that change) reads the progress again and polls on from there; a restarted one
starts where the store says, so no change is fired twice or skipped. (A controller that
dies between a claim and its fire loses that one fire: at most once, as for alarms.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from pywhisk.common.retry import Backoff, retry
from pywhisk.common.store.base import Conflict
from pywhisk.controller.core.feeds.alarm_spec import FeedRefused
from pywhisk.controller.core.feeds.alarms import MAX_REACHED
from pywhisk.controller.core.feeds.changes_spec import Config, database_url, host_header
from pywhisk.controller.core.feeds.feed_hosts import HostPolicy, checked_address
from pywhisk.controller.core.feeds.firing import Fire
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry
from pywhisk.controller.core.feeds.ticking import Ticking

log = logging.getLogger(__name__)

ClientFactory = Callable[[float], httpx.AsyncClient]


def _auth(config: Config) -> tuple[str, str] | None:
    if config.get("username"):
        return (str(config["username"]), str(config.get("password") or ""))
    return None


async def _get(
    client: httpx.AsyncClient,
    policy: HostPolicy,
    config: Config,
    path: str = "",
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """GET from the feed's database at the address its host was checked at (so that no
    second resolution picks another), the name kept for Host and TLS."""
    https = config.get("protocol") == "https"
    port = int(config.get("port") or (443 if https else 80))
    address = await checked_address(policy, str(config["host"]), port)
    return await client.get(
        database_url({**config, "host": address}) + path,
        params=params,
        auth=_auth(config),
        headers={"Host": host_header(config)},
        extensions={"sni_hostname": str(config["host"]).strip("[]")} if https else None,
    )


async def current_seq(client: httpx.AsyncClient, config: Config, policy: HostPolicy) -> Any:
    """The database's `update_seq`: where a feed created with `since=now` starts.
    Refused (400) when the host is not allowed or the database cannot be read with the
    feed's credentials."""
    try:
        answer = await _get(client, policy, config)
    except httpx.HTTPError as e:
        # The kind of failure only: the host is public, but its errors are not ours to relay.
        raise FeedRefused(
            400, f"couchdb trigger feed: cannot reach {database_url(config)}: {type(e).__name__}"
        ) from None
    if answer.status_code != 200:
        raise FeedRefused(
            400,
            f"couchdb trigger feed: database '{config['dbname']}' answered "
            f"{answer.status_code}: {answer.text[:200]}",
        )
    return answer.json().get("update_seq", 0)


async def poll(
    client: httpx.AsyncClient, config: Config, since: Any, wait_ms: int, policy: HostPolicy
) -> list[dict[str, Any]]:
    """The changes after `since`, waiting up to `wait_ms` for the first one."""
    params: dict[str, Any] = {"feed": "longpoll", "since": str(since), "timeout": wait_ms}
    if config.get("filter"):
        params["filter"] = config["filter"]
        params.update({k: str(v) for k, v in (config.get("query_params") or {}).items()})
    answer = await _get(client, policy, config, "/_changes", params)
    answer.raise_for_status()
    return list(answer.json().get("results") or [])


def after_claim(record: FeedRecord, change: dict[str, Any]) -> FeedRecord:
    fired = int(record.state.get("fired", 0)) + 1
    claimed = replace(record, state={**record.state, "since": change["seq"], "fired": fired})
    limit = int(record.config.get("maxTriggers", -1))
    return claimed.disabled(MAX_REACHED) if 0 < limit <= fired else claimed


def event_of(record: FeedRecord, change: dict[str, Any]) -> dict[str, Any]:
    return {**(record.config.get("payload") or {}), **change, "dbname": record.config["dbname"]}


def default_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0))


class ChangesFollowers(Ticking):
    """One follower task per active changes feed, kept in step with the store each tick."""

    def __init__(
        self,
        registry: FeedRegistry,
        fire: Fire,
        *,
        tick: float = 1.0,
        longpoll: float = 25.0,
        retry: float = 2.0,
        client: ClientFactory = default_client,
        policy: HostPolicy | None = None,
    ) -> None:
        """`policy`: the hosts feeds may reach (default: public ones only)."""
        super().__init__(registry, fire, tick)
        self.policy = policy or HostPolicy()
        self.longpoll = longpoll
        self.retry = retry
        self._client = client
        self.followers: dict[str, asyncio.Task[None]] = {}

    async def stop(self, grace: float = 0.0) -> None:
        await super().stop(grace)
        self.followers.clear()

    async def tick_once(self) -> float | None:
        await self.sync()
        return None

    async def sync(self) -> None:
        """Start a follower for each active feed without a running one; followers end by
        themselves when their feed is paused, removed or switched off."""
        listed = await self.registry.all()
        for record in listed:
            running = self.followers.get(record.id)
            if record.active and (running is None or running.done()):
                self.followers[record.id] = self.spawn(self.follow(record), f"follow {record.id}")
        known = {record.id for record in listed}
        for gone in [k for k, task in self.followers.items() if task.done() and k not in known]:
            del self.followers[gone]

    async def follow(self, listed: FeedRecord) -> None:
        def failed(error: BaseException, tries: int, pause: float) -> None:
            log.warning("changes feed %s: %r; retrying", listed.id, error)

        async with self._client(self.longpoll + 10) as client:
            # The database or the store away for a moment: the progress is in the store, so
            # carrying on from it later misses nothing.
            while await retry(
                lambda: self._step(client, listed), Backoff(self.retry), before_pause=failed
            ):
                pass

    async def _step(self, client: httpx.AsyncClient, listed: FeedRecord) -> bool:
        """One long poll and the fires of what it brought; False once the feed has ended."""
        record = await self.registry.reload(listed)
        if record is None or not record.active:
            return False
        wait_ms = int(self.longpoll * 1000)
        since = record.state.get("since")
        try:
            changes = await poll(client, record.config, since, wait_ms, self.policy)
        except FeedRefused as refused:  # its host now resolves where feeds may not go
            await self.registry.switch_off(record, refused.message, refused.status)
            return False
        for change in changes:
            try:
                record = await self.registry.put(after_claim(record, change))
            except Conflict:
                return True  # fired by another controller, or changed: read it again
            refusal = await self._fire(record, event_of(record, change))
            if refusal is not None:
                await self.registry.switch_off(record, refusal.message, refusal.status)
                return False
            if not record.active:
                return False
        return True
