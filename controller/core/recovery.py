"""Settling, at start, what a crash left in the journal of accepted activations.

Runs once in the standalone preset, after the invoker started and before the API serves, with
the rules of `controller/core/replay.py`: records for what was answered, lost or expired (each
write removes its entry in the same transaction), and the never-started activations published
again, registered with the tracker like any other (forced-ack timeout, concurrency count).
Their entries stay until their records are written, so a second crash during the replay
settles them again by the same rules.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from pywhisk.common.logcontext import activation_context
from pywhisk.common.queue.base import QueueError
from pywhisk.common.store.journal import ActivationJournal, JournalEntry
from pywhisk.common.whisk_errors import log_whisk_error
from pywhisk.controller.core.balancer import NoInvokers
from pywhisk.controller.core.capabilities import Replaying
from pywhisk.controller.core.replay import (
    EXPIRED,
    INTERRUPTED,
    Decision,
    decide,
    namespace_of,
    record_for,
)

log = logging.getLogger("pywhisk.recovery")


async def recover(svc: Replaying, journal: ActivationJournal) -> Counter[Decision]:
    """Settle every pending entry; returns how many took each decision."""
    entries = await journal.pending()
    decisions: Counter[Decision] = Counter()
    forget: list[str] = []
    for entry in entries:
        transid = entry.message.transid if entry.message is not None else None
        with activation_context(entry.activation_id, transid):
            now = int(time.time() * 1000)
            decision = decide(entry, await _recorded(svc, entry), now)
            decisions[decision] += 1
            log.debug("interrupted by the last stop: %s", decision.value)
            if decision in (Decision.SETTLED, Decision.UNREADABLE):
                forget.append(entry.activation_id)
            elif decision is Decision.RUN:
                await _run(svc, entry)
            else:
                record = record_for(decision, entry, now)
                assert record is not None
                if decision is not Decision.ANSWERED:  # lost or expired: the platform's failure
                    _log_settled(entry, transid, decision)
                await svc.store.activations.put(record)
    await journal.forget(forget)
    await svc.store.activations.settle()
    if entries:
        log.warning(
            "settled %d activations interrupted by the last stop: %s",
            len(entries),
            ", ".join(f"{n} {d.value}" for d, n in sorted(decisions.items(), key=str)),
        )
    return decisions


def _log_settled(entry: JournalEntry, transid: str | None, decision: Decision) -> None:
    if decision is Decision.LOST:
        error, cause = INTERRUPTED, "it had started when the server last stopped"
    else:
        error, cause = EXPIRED, "it still waited to run when the server last stopped"
    action = entry.message.action if entry.message is not None else None
    log_whisk_error(log, entry.activation_id, transid, error, cause, action)


async def _recorded(svc: Replaying, entry: JournalEntry) -> bool:
    namespace = namespace_of(entry)
    if namespace is None:
        return False
    return await svc.store.activations.get(namespace, entry.activation_id) is not None


async def _run(svc: Replaying, entry: JournalEntry) -> None:
    message = entry.message
    assert message is not None
    try:
        await svc.placement.place(message, blocking=False, timeout_ms=entry.timeout)
    except (QueueError, NoInvokers) as exc:  # kept: the next start tries again
        log.error("could not run %s again: %s", message.activation_id, exc)
        return
