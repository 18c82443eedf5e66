"""Activation claims in SQLite (`common.store.claims`): one row per activation id.

A claim call reads the rows it decides on and writes the outcome in one `BEGIN IMMEDIATE`
transaction, which takes the file's write lock first: another process sharing the file
(several controllers and invokers on one host) cannot write between the read and the write.
The standalone preset's one invoker claims nothing; only the cluster pays for this.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

import aiosqlite

from pywhisk.common.store.base import StoreError
from pywhisk.common.store.claims import Claim, ClaimStore, Decide
from pywhisk.common.store.sqlite_errors import store_errors

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id TEXT PRIMARY KEY,         -- activation id
    owner TEXT NOT NULL,
    started INTEGER NOT NULL,
    token TEXT NOT NULL,
    at INTEGER NOT NULL          -- epoch ms of the last write
);
"""
_CHUNK = 500  # ids per SELECT, under SQLite's bound-parameter limit


@store_errors
class SqliteClaims(ClaimStore):
    def __init__(self, db: aiosqlite.Connection, writing: asyncio.Lock) -> None:
        self._db = db
        self._write = writing

    async def _read(self, ids: list[str]) -> dict[str, Claim]:
        found: dict[str, Claim] = {}
        for first in range(0, len(ids), _CHUNK):
            chunk = ids[first : first + _CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, owner, started, token FROM claims WHERE id IN ({marks})"
            async with self._db.execute(sql, chunk) as cur:
                for row in await cur.fetchall():
                    found[row[0]] = Claim(row[1], bool(row[2]), row[3])
        return found

    async def settle(self, activation_ids: list[str], decide: Decide) -> set[str]:
        if not activation_ids:
            return set()
        won: set[str] = set()
        async with self._write:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                current = await self._read(activation_ids)
                rows = []
                now = int(time.time() * 1000)
                for activation_id in activation_ids:
                    ok, write = decide(activation_id, current.get(activation_id))
                    if ok:
                        won.add(activation_id)
                    if write is not None:
                        rows.append(
                            (activation_id, write.owner, int(write.started), write.token, now)
                        )
                await self._db.executemany(
                    "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)", rows
                )
                await self._db.commit()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await self._db.rollback()
                if isinstance(exc, sqlite3.Error):  # e.g. locked by another process too long
                    raise StoreError(f"SQLite claims: {exc}") from exc
                raise
        return won

    async def get(self, activation_id: str) -> Claim | None:
        return (await self._read([activation_id])).get(activation_id)
