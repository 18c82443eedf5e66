"""The journal of accepted activations: what a crash must not lose, until the record is written.

A 202 is a promise that the activation will run and be recorded; a blocking answer, that its
record exists. Where messages wait in memory (the standalone preset's in-process queue) and
records are written behind, a crashed process would break both promises. So, before the
answer goes out, the controller writes the accepted activation's message here (`accept`),
the invoker marks it `start`ed before its /run is sent (so a restart can tell "never ran"
from "was running", which may have had side effects and must not run again), and a blocking
answer is journaled with its record (`answered`) before it is sent. Writing the activation's
record removes its entry, in the same transaction; what remains at a restart is what the
crash interrupted, and `controller.recovery` settles it.

Implementations: `SqliteJournal` (`common/store/sqlite_journal.py`), group-committed with
the store's records. Stores without one (CouchDB) have `Store.journal = None`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from pywhisk.common.messages import ActivationMessage


class Stage(enum.IntEnum):
    ACCEPTED = 0  # answered 202 (or waiting for an invoker); not run yet
    STARTED = 1  # its /run may have been sent
    ANSWERED = 2  # its result was answered; the record follows when its logs are in


@dataclass(frozen=True, slots=True)
class JournalEntry:
    activation_id: str
    stage: Stage
    timeout: int  # the action's time limit, ms
    message: ActivationMessage | None  # ACCEPTED/STARTED: what to run or record
    record: dict[str, Any] | None  # ANSWERED: the record as answered, without logs


class ActivationJournal(Protocol):
    async def accept(
        self, message: ActivationMessage, time_limit: int, *, started: bool = False
    ) -> None:
        """Durable when this returns (StoreError if it cannot be made so). A second accept of
        one activation changes nothing."""
        ...

    async def start(self, activation_id: str) -> None:
        """Durable when this returns; an activation not journaled is left alone."""
        ...

    async def answered(self, record: dict[str, Any]) -> None:
        """Durable when this returns: `record` (stored form) is what the caller is answered."""
        ...

    async def pending(self) -> list[JournalEntry]:
        """Every entry whose activation has no record written through this store yet."""
        ...

    async def forget(self, activation_ids: list[str]) -> None:
        """Remove entries (their activations were settled otherwise); durable on return."""
        ...
