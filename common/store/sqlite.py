"""SQLite store for the standalone preset: one file, survives restarts.

aiosqlite keeps reads and entity writes on its own thread, so the event loop never waits for
the disk or a lock. Activation records and the accepted-activations journal go through a group
committer (`sqlite_commits.py`). A record is written behind by its writer thread (nobody
waits: the invoker has answered), batched with its neighbours, and deletes its journal entry
in the same transaction; a journal write is waited for: committed by the event loop itself
when nothing else is being committed (a few page writes to the WAL, never waiting for a
lock), else sharing the thread's next commit with whatever queued up meanwhile. Reads wait for what was queued before them to be tried, so a record is visible as
soon as `put` returned (read-your-writes within the process). A commit that fails (disk full,
I/O error, another process holding the lock too long) keeps its records queued and is retried
with backoff: the store is then the record's only keeper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from urllib.parse import urlsplit

import aiosqlite

from pywhisk.common import jsonio
from pywhisk.common.entities.identity import Identity, NamespaceLimits
from pywhisk.common.store.base import (
    ActivationStore,
    Conflict,
    Doc,
    EntityStore,
    Store,
    StoreMissing,
    SubjectStore,
)
from pywhisk.common.store.records import activation_filter_name
from pywhisk.common.store.sqlite_batches import connector
from pywhisk.common.store.sqlite_claims import SCHEMA as CLAIMS_SCHEMA
from pywhisk.common.store.sqlite_claims import SqliteClaims
from pywhisk.common.store.sqlite_commits import GroupCommitter
from pywhisk.common.store.sqlite_errors import store_errors
from pywhisk.common.store.sqlite_journal import FORGET, SqliteJournal
from pywhisk.common.store.sqlite_journal import SCHEMA as JOURNAL_SCHEMA
from pywhisk.common.store.usage import ActionUsage, Usage, billed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY,
    root TEXT NOT NULL,          -- the namespace, without package
    path TEXT NOT NULL,          -- entity namespace field: ns or ns/pkg
    type TEXT NOT NULL,
    updated INTEGER NOT NULL,
    publish INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entities_by_ns ON entities (root, type, updated DESC);
CREATE TABLE IF NOT EXISTS activations (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,          -- [pkg/]action, for the name filter
    start INTEGER NOT NULL,
    doc BLOB NOT NULL,
    mb_ms INTEGER,               -- usage: memory x duration; NULL when not billed
    cold INTEGER,
    error INTEGER
);
CREATE INDEX IF NOT EXISTS activations_by_ns ON activations (namespace, start DESC);
CREATE INDEX IF NOT EXISTS activations_by_name ON activations (namespace, name, start DESC);
CREATE TABLE IF NOT EXISTS subjects (
    namespace TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    limits BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS subjects_by_auth ON subjects (uuid, key);
"""

# Covers the usage query (range on start, grouped by name) without reading a record.
_USAGE_INDEX = """CREATE INDEX IF NOT EXISTS activations_usage
    ON activations (namespace, start, name, mb_ms, cold, error)"""
_USAGE_COLUMNS = ("mb_ms", "cold", "error")


log = logging.getLogger(__name__)


def path_of(url: str) -> str:
    """`sqlite:///abs/path.db` → `/abs/path.db`; `sqlite://:memory:` for tests."""
    parts = urlsplit(url)
    if parts.netloc == ":memory:" or parts.path in ("", "/:memory:"):
        return ":memory:"
    return parts.path


def private_file(path: str) -> None:
    """The store holds every namespace's key: its file is its owner's alone (0600), and so
    are the -wal and -shm files, which SQLite creates with the database file's mode; a
    directory made for it is 0700."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            if os.stat(name).st_uid == os.geteuid():
                os.chmod(name, 0o600)


def _usage_row(doc: Doc) -> tuple[int | None, int | None, int | None]:
    b = billed(doc)
    return (None, None, None) if b is None else (b.mb_ms, int(b.cold), int(b.error))


async def _add_usage_columns(db: aiosqlite.Connection) -> None:
    """A store written before usage existed gets its columns, filled from its records."""
    async with db.execute("PRAGMA table_info(activations)") as cur:
        present = {row[1] for row in await cur.fetchall()}
    if set(_USAGE_COLUMNS) <= present:
        return
    for column in _USAGE_COLUMNS:
        if column not in present:
            await db.execute(f"ALTER TABLE activations ADD COLUMN {column} INTEGER")
    async with db.execute("SELECT id, doc FROM activations") as cur:
        rows = [(*_usage_row(jsonio.loads(doc)), id_) for id_, doc in await cur.fetchall()]
    await db.executemany("UPDATE activations SET mb_ms = ?, cold = ?, error = ? WHERE id = ?", rows)


@store_errors
class SqliteStore(Store):
    scheme = "sqlite"

    def __init__(self, url: str) -> None:
        self.path = path_of(url)
        self._db: aiosqlite.Connection | None = None
        self._commits: GroupCommitter | None = None

    async def open(self, create: bool = True) -> None:
        exists = self.path != ":memory:" and await asyncio.to_thread(os.path.exists, self.path)
        if not create and not exists:
            shown = "/" + self.path.lstrip("/") if self.path.startswith("/") else self.path
            raise StoreMissing(f"no pywhisk store at {shown}")
        path, uri = self.path, False
        if path == ":memory:":  # two connections (reads, group commits) share one database
            path, uri = f"file:pywhisk-{id(self)}?mode=memory&cache=shared", True
        else:
            private_file(path)
        self._db = db = await aiosqlite.connect(path, uri=uri)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.executescript(_SCHEMA + JOURNAL_SCHEMA + CLAIMS_SCHEMA)
            await _add_usage_columns(db)
            await db.execute(_USAGE_INDEX)
            await db.commit()
            self._commits = commits = GroupCommitter(connector(path, uri=uri))
            await commits.open()
        except BaseException:
            # aiosqlite's connection thread is not a daemon: left open, it would keep the
            # process from exiting after its one-line start-up error (a file that is no
            # database fails at the first PRAGMA).
            await self.close()
            raise
        # One connection is one transaction: a write (statements + commit, or a rollback)
        # must not interleave with another family's, or one could commit or undo the other.
        writing = asyncio.Lock()
        self.entities = SqliteEntities(db, writing)
        self.activations = SqliteActivations(db, commits)
        self.subjects = SqliteSubjects(db, writing)
        self.journal = SqliteJournal(db, commits)
        self.claims = SqliteClaims(db, writing)

    async def close(self) -> None:
        if self._db is None:
            return
        try:
            if self._commits is not None:
                await self._commits.close()
        finally:
            await self._db.close()
            self._db = None


_ENTITY = "SELECT doc, rev FROM entities WHERE id = ?"


@store_errors
class SqliteEntities(EntityStore):
    def __init__(self, db: aiosqlite.Connection, writing: asyncio.Lock) -> None:
        self._db = db
        # Also keeps the rev check and the write together.
        self._write = writing

    async def get(self, doc_id: str) -> tuple[Doc, str] | None:
        # One trip to the connection's thread (a cursor's execute, fetch and close are three):
        # a new action's first invoke reads it here twice, controller and invoker.
        rows = await self._db.execute_fetchall(_ENTITY, (doc_id,))
        for doc, rev in rows:
            return jsonio.loads(doc), str(rev)
        return None

    async def put(self, doc_id: str, doc: Doc, rev: str | None) -> str:
        path = doc["namespace"]
        fields = (
            path.partition("/")[0],
            path,
            doc["entityType"],
            int(doc.get("updated", 0)),
            1 if doc.get("publish") else 0,
            jsonio.dumps(doc),
        )
        # One statement checks and writes, so that another process writing the same file
        # (several controllers on one SQLite store) cannot slip between the two.
        async with self._write:
            if rev is None:
                new_rev = 1
                sql = "INSERT OR IGNORE INTO entities (root, path, type, updated, publish, doc, rev, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                args: tuple[Any, ...] = (*fields, new_rev, doc_id)
            else:
                try:
                    new_rev = int(rev) + 1
                except ValueError:
                    raise Conflict(doc_id) from None
                sql = "UPDATE entities SET root = ?, path = ?, type = ?, updated = ?, publish = ?, doc = ?, rev = ? WHERE id = ? AND rev = ?"
                args = (*fields, new_rev, doc_id, new_rev - 1)
            cur = await self._db.execute(sql, args)
            await self._db.commit()
            if cur.rowcount != 1:
                raise Conflict(doc_id)
        return str(new_rev)

    async def delete(self, doc_id: str, rev: str) -> None:
        async with self._write:
            cur = await self._db.execute(
                "DELETE FROM entities WHERE id = ? AND rev = ?", (doc_id, int(rev))
            )
            await self._db.commit()
            if cur.rowcount != 1:
                raise Conflict(doc_id)

    def _where(
        self, namespace: str, entity_type: str, package: str | None, public_only: bool
    ) -> tuple[str, list[Any]]:
        clause = "root = ? AND type = ?"
        args: list[Any] = [namespace, entity_type]
        if package is not None:
            clause += " AND path = ?"
            args.append(f"{namespace}/{package}")
        if public_only:
            clause += " AND publish = 1"
        return clause, args

    async def list(
        self,
        namespace: str,
        entity_type: str,
        *,
        package: str | None = None,
        skip: int = 0,
        limit: int = 30,
        public_only: bool = False,
    ) -> list[Doc]:
        where, args = self._where(namespace, entity_type, package, public_only)
        sql = f"SELECT doc FROM entities WHERE {where} ORDER BY updated DESC LIMIT ? OFFSET ?"
        async with self._db.execute(sql, (*args, limit, skip)) as cur:
            return [jsonio.loads(row[0]) for row in await cur.fetchall()]

    async def count(
        self,
        namespace: str,
        entity_type: str,
        *,
        package: str | None = None,
        public_only: bool = False,
    ) -> int:
        where, args = self._where(namespace, entity_type, package, public_only)
        async with self._db.execute(f"SELECT COUNT(*) FROM entities WHERE {where}", args) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


_RECORD = "INSERT OR REPLACE INTO activations VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


@store_errors
class SqliteActivations(ActivationStore):
    def __init__(self, db: aiosqlite.Connection, commits: GroupCommitter) -> None:
        self._db = db
        self._commits = commits

    async def put(self, doc: Doc) -> None:
        row = (
            doc["activationId"],
            doc["namespace"],
            activation_filter_name(doc),
            int(doc["start"]),
            jsonio.dumps(doc),
            *_usage_row(doc),
        )
        self._commits.submit(
            [(_RECORD, row), (FORGET, (doc["activationId"],))], retry=True, wait=False
        )

    async def settle(self) -> None:
        await self._commits.settled(written=True)

    async def _flush_for_read(self) -> None:
        # A read must not fail or hang because a write does: it waits for what was queued
        # before it to be tried once, then answers from what is stored.
        await self._commits.settled(written=False)

    async def get(self, namespace: str, activation_id: str) -> Doc | None:
        await self._flush_for_read()
        async with self._db.execute(
            "SELECT doc FROM activations WHERE id = ? AND namespace = ?",
            (activation_id, namespace),
        ) as cur:
            row = await cur.fetchone()
        return jsonio.loads(row[0]) if row else None

    @staticmethod
    def _where(
        namespace: str, name: str | None, since: int | None, upto: int | None
    ) -> tuple[str, list[Any]]:
        clause = "namespace = ?"
        args: list[Any] = [namespace]
        if name is not None:
            clause += " AND name = ?"
            args.append(name)
        if since is not None:
            clause += " AND start >= ?"
            args.append(since)
        if upto is not None:
            clause += " AND start <= ?"
            args.append(upto)
        return clause, args

    async def list(
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
        skip: int = 0,
        limit: int = 30,
    ) -> list[Doc]:
        await self._flush_for_read()
        where, args = self._where(namespace, name, since, upto)
        sql = f"SELECT doc FROM activations WHERE {where} ORDER BY start DESC LIMIT ? OFFSET ?"
        async with self._db.execute(sql, (*args, limit, skip)) as cur:
            return [jsonio.loads(row[0]) for row in await cur.fetchall()]

    async def count(
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
    ) -> int:
        await self._flush_for_read()
        where, args = self._where(namespace, name, since, upto)
        async with self._db.execute(f"SELECT COUNT(*) FROM activations WHERE {where}", args) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def usage(
        self, namespace: str, *, since: int | None = None, upto: int | None = None
    ) -> Usage:
        await self._flush_for_read()
        where, args = self._where(namespace, None, since, upto)
        sql = (
            "SELECT name, COUNT(*), SUM(mb_ms), SUM(cold), SUM(error) FROM activations"
            f" WHERE {where} AND mb_ms IS NOT NULL GROUP BY name ORDER BY name"
        )
        async with self._db.execute(sql, args) as cur:
            rows = await cur.fetchall()
        return [ActionUsage(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


@store_errors
class SqliteSubjects(SubjectStore):
    def __init__(self, db: aiosqlite.Connection, writing: asyncio.Lock) -> None:
        self._db = db
        self._write = writing

    @staticmethod
    def _identity(row: Any) -> Identity:
        namespace, subject, uuid, key, limits = row
        return Identity(
            namespace=namespace,
            subject=subject,
            uuid=uuid,
            key=key,
            limits=NamespaceLimits.stored(jsonio.loads(limits)),
        )

    async def _one(self, sql: str, args: tuple[Any, ...]) -> Identity | None:
        async with self._db.execute(sql, args) as cur:
            row = await cur.fetchone()
        return self._identity(row) if row else None

    async def by_auth(self, uuid: str, key: str) -> Identity | None:
        return await self._one("SELECT * FROM subjects WHERE uuid = ? AND key = ?", (uuid, key))

    async def by_namespace(self, namespace: str) -> Identity | None:
        return await self._one("SELECT * FROM subjects WHERE namespace = ?", (namespace,))

    async def put(self, identity: Identity) -> None:
        async with self._write:
            await self._db.execute(
                "INSERT OR REPLACE INTO subjects VALUES (?, ?, ?, ?, ?)",
                (
                    identity.namespace,
                    identity.subject,
                    identity.uuid,
                    identity.key,
                    jsonio.dumps(identity.limits.to_json()),
                ),
            )
            await self._db.commit()

    async def delete(self, namespace: str) -> bool:
        async with self._write:
            cur = await self._db.execute("DELETE FROM subjects WHERE namespace = ?", (namespace,))
            await self._db.commit()
        return cur.rowcount == 1

    async def all(self) -> list[Identity]:
        async with self._db.execute("SELECT * FROM subjects ORDER BY namespace") as cur:
            return [self._identity(row) for row in await cur.fetchall()]
