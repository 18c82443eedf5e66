"""The accepted-activations journal in the SQLite store (see `common/store/journal.py`).

One small table beside the records, written through the store's group committer: an
`accept`, `start` or `answered` waits for a commit shared with whatever else queued up
meanwhile, and a record's write deletes its entry in the same transaction
(`SqliteActivations.put`), so no entry outlives its record and no record is missing for an
entry removed. Rows are keyed by activation id and hold the message (to run the activation
again, or to record it as lost) or the answered record.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiosqlite
from pydantic import ValidationError

from pywhisk.common import jsonio
from pywhisk.common.logcontext import activation_context
from pywhisk.common.messages import ActivationMessage
from pywhisk.common.store.journal import JournalEntry, Stage
from pywhisk.common.store.sqlite_commits import GroupCommitter
from pywhisk.common.store.sqlite_errors import store_errors

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id TEXT PRIMARY KEY,         -- activation id
    stage INTEGER NOT NULL,      -- journal.Stage
    timeout INTEGER NOT NULL,    -- the action's time limit, ms
    at INTEGER NOT NULL,         -- epoch ms when journaled: the replay's order
    message BLOB,                -- ActivationMessage (accepted, started)
    record BLOB                  -- the record as answered (answered)
) WITHOUT ROWID;                 -- one b-tree, not a table and its key's index: a page a write
"""
# What a record's write runs beside its insert.
FORGET = "DELETE FROM journal WHERE id = ?"
_ACCEPT = "INSERT OR IGNORE INTO journal (id, stage, timeout, at, message) VALUES (?, ?, ?, ?, ?)"
_START = f"UPDATE journal SET stage = {Stage.STARTED.value} WHERE id = ? AND stage = {Stage.ACCEPTED.value}"
_ANSWERED = "INSERT OR REPLACE INTO journal (id, stage, timeout, at, record) VALUES (?, ?, 0, ?, ?)"

log = logging.getLogger(__name__)


@store_errors
class SqliteJournal:
    def __init__(self, db: aiosqlite.Connection, commits: GroupCommitter) -> None:
        self._db = db
        self._commits = commits

    async def accept(
        self, message: ActivationMessage, time_limit: int, *, started: bool = False
    ) -> None:
        stage = Stage.STARTED if started else Stage.ACCEPTED
        row = (message.activation_id, stage.value, time_limit, _now(), message.to_bytes())
        await self._commits.submit([(_ACCEPT, row)], retry=False, wait=True)

    async def start(self, activation_id: str) -> None:
        await self._commits.submit([(_START, (activation_id,))], retry=False, wait=True)

    async def answered(self, record: dict[str, Any]) -> None:
        row = (record["activationId"], Stage.ANSWERED.value, _now(), jsonio.dumps(record))
        await self._commits.submit([(_ANSWERED, row)], retry=False, wait=True)

    async def pending(self) -> list[JournalEntry]:
        await self._commits.settled(written=False)
        async with self._db.execute(
            "SELECT id, stage, timeout, message, record FROM journal ORDER BY at, id"
        ) as cur:
            rows = await cur.fetchall()
        return [_entry(*row) for row in rows]

    async def forget(self, activation_ids: list[str]) -> None:
        if activation_ids:
            statements = [(FORGET, (aid,)) for aid in activation_ids]
            await self._commits.submit(statements, retry=False, wait=True)


def _now() -> int:
    return int(time.time() * 1000)


def _entry(
    activation_id: str, stage: int, timeout: int, message: bytes | None, record: bytes | None
) -> JournalEntry:
    parsed: ActivationMessage | None = None
    answered: dict[str, Any] | None = None
    try:
        parsed = ActivationMessage.from_bytes(message) if message else None
        answered = jsonio.loads(record) if record else None
    except (ValidationError, jsonio.JSONDecodeError):
        # Recovery records nothing it cannot read; it says so and drops the entry.
        with activation_context(activation_id):
            log.error("journal entry of %s is unreadable", activation_id)
    try:
        kind = Stage(stage)
    except ValueError:
        kind = Stage.STARTED
    return JournalEntry(activation_id, kind, timeout, parsed, answered)
