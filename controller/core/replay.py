"""What a restart does with each activation the journal still holds (pure; `recovery.py` acts).

An entry outlives its activation's record only if the process died in between, so every entry
left at a start is a promise the crash interrupted. The rules, first match wins:

1. Its record exists: the activation is settled, the entry goes. A recorded activation is
   never run again, whatever else the entry says.
2. It was answered (a blocking answer went out): its record is written from the journal, as
   answered, with a line saying its logs were lost.
3. It was started: its /run may have been sent and the action may have had side effects, so
   it does not run again; its record is a whisk internal error saying it was lost.
4. It never started but its deadline has passed: a whisk internal error record saying it was
   not run. The deadline is when the controller would have given up waiting for it anyway,
   OpenWhisk's forced-ack timeout counted from the controller's receipt (3 min for an action
   of 60 s or less); running it past that would surprise more than it would help.
5. Otherwise it runs now, as it would have: once, since a start is journaled before any run.

An entry that cannot be read (no message, no record) is dropped with an error in the log.
"""

from __future__ import annotations

import enum
import time
from typing import Any

from pywhisk.common.entities.activation import ActivationResponse, Status
from pywhisk.common.fallback_records import fallback
from pywhisk.common.store.journal import JournalEntry, Stage
from pywhisk.controller.core.tracker import LOGS_LOST, forced_ack_timeout

INTERRUPTED = "The activation was lost: the platform stopped while it ran; it is not run again."
EXPIRED = "The activation was not run: the platform restarted after its deadline."


class Decision(enum.Enum):
    SETTLED = "settled"  # recorded already: forget the entry
    ANSWERED = "answered"  # write the answered record
    LOST = "lost"  # was running: whisk internal error record
    EXPIRED = "expired"  # never ran, too late: whisk internal error record
    RUN = "run"  # never ran: run it now
    UNREADABLE = "unreadable"  # forget the entry


def deadline(entry: JournalEntry) -> int:
    """Epoch ms after which a never-started activation is no longer run."""
    assert entry.message is not None
    return entry.message.received + int(forced_ack_timeout(entry.timeout) * 1000)


def decide(entry: JournalEntry, recorded: bool, now: int) -> Decision:
    if recorded:
        return Decision.SETTLED
    if entry.stage is Stage.ANSWERED:
        return Decision.ANSWERED if entry.record is not None else Decision.UNREADABLE
    if entry.message is None:
        return Decision.UNREADABLE
    if entry.stage is Stage.STARTED:
        return Decision.LOST
    if now > deadline(entry):
        return Decision.EXPIRED
    return Decision.RUN


def namespace_of(entry: JournalEntry) -> str | None:
    if entry.message is not None:
        return entry.message.user.namespace
    if entry.record is not None:
        return str(entry.record.get("namespace", "")) or None
    return None


def record_for(decision: Decision, entry: JournalEntry, now: int) -> dict[str, Any] | None:
    """The record a decision writes (stored form), or None."""
    if decision is Decision.ANSWERED:
        assert entry.record is not None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(now / 1000))
        logs = [*entry.record.get("logs", ()), f"{stamp} stderr: {LOGS_LOST}"]
        return {**entry.record, "logs": logs}
    if decision in (Decision.LOST, Decision.EXPIRED):
        assert entry.message is not None
        reason = INTERRUPTED if decision is Decision.LOST else EXPIRED
        error = ActivationResponse.error(Status.WHISK_ERROR, reason)
        return fallback(entry.message, error, now).to_json()
    return None
