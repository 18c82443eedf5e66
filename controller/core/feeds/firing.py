"""Firing a feed's trigger as its owner, and what a refusal means for the feed.

As OpenWhisk's providers do (openwhisk-package-alarms `provider/lib/utils.js`): a 4xx
other than 408, 409 and 429 (the trigger or its namespace is gone, the payload is
refused) switches the feed off with the reason recorded; a 429, a 408, a 409 or a 5xx is
retried a few times with growing delays, then given up for that one fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pywhisk.common.entities import Identity
from pywhisk.common.ids import new_transaction_id
from pywhisk.common.logcontext import activation_context
from pywhisk.common.names import QualifiedName
from pywhisk.common.retry import Backoff, retry
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.feeds.registry import FeedRecord

log = logging.getLogger(__name__)

RETRIES = Backoff(1.0, factor=3.0, retries=3)  # 1, 3 and 9 s before the three retries


@dataclass(frozen=True)
class Refusal:
    """A fire refused for good: the feed is to be switched off with this reason."""

    status: int
    message: str


class Fire(Protocol):
    async def __call__(self, record: FeedRecord, payload: dict[str, Any]) -> Refusal | None:
        """Fire `record`'s trigger with `payload`; a Refusal if the feed should stop."""


FireTrigger = Callable[[Identity, QualifiedName, dict[str, Any], str], Awaitable[str | None]]
Lookup = Callable[[str], Awaitable[Identity | None]]


def refuses_for_good(status: int) -> bool:
    return 400 <= status < 500 and status not in (408, 409, 429)


class TriggerFirer:
    """The `Fire` the providers use: `fire_trigger` as the trigger's owner, with retries."""

    def __init__(
        self,
        fire_trigger: FireTrigger,
        owner: Lookup,
        backoff: Backoff = RETRIES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._fire_trigger = fire_trigger
        self._owner = owner
        self._backoff = backoff
        self._sleep = sleep

    async def __call__(self, record: FeedRecord, payload: dict[str, Any]) -> Refusal | None:
        owner = await self._owner(record.namespace)
        if owner is None:
            return Refusal(404, f"the namespace {record.namespace} no longer exists")
        fqn = QualifiedName(record.namespace, record.trigger)

        transids: list[str] = []  # one per attempt; the last one's line names it

        async def fire() -> str | None:
            transids.append(new_transaction_id())
            return await self._fire_trigger(owner, fqn, payload, transids[-1])

        def gave_up(error: BaseException) -> bool:
            return isinstance(error, ApiError) and refuses_for_good(error.status)

        try:
            # A 429, 408, 409, 5xx, or a store or queue failure: tried again.
            activation = await retry(fire, self._backoff, give_up=gave_up, sleep=self._sleep)
        except ApiError as e:
            if refuses_for_good(e.status):
                return Refusal(e.status, e.message)
            problem = f"{e.status} {e.message}"
        except Exception as e:
            problem = repr(e)
        else:
            with activation_context(activation or "", transids[-1]):
                log.info("feed %s fired %s: %s", record.id, record.trigger_path, activation)
            return None
        log.warning(
            "feed %s could not fire %s after %d tries: %s",
            *(record.id, record.trigger_path, (self._backoff.retries or 0) + 1, problem),
        )
        return None
