"""Activation records in CouchDB, written behind in `_bulk_docs` batches.

`put` queues the record and a flusher posts what is queued every few milliseconds, up to
`_BATCH_MAX` records a request, so a burst of activations costs a few requests instead of
one each. Reads flush first, so a record is readable from this process as soon as `put`
returned. The invoker has already answered when it stores a record, so the store is the
record's only keeper: a flush that fails (CouchDB down or refusing, the network cut) keeps
its records queued and is retried with backoff, and a record CouchDB refused alone (a
`validate_doc_update` veto, a document too large) stays queued too, with the reason logged.

The document id is OpenWhisk's `<namespace>/<activationId>`. A record already stored under
that id (a retry of a request whose answer was lost) is a 409 for the retry: it is stored,
which makes `put` idempotent by activation id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pywhisk.common.logcontext import activation_context
from pywhisk.common.store.base import ActivationStore, StoreError
from pywhisk.common.store.couchdb_client import CouchClient
from pywhisk.common.store.couchdb_design import ACTIVATIONS, USAGE
from pywhisk.common.store.records import Doc
from pywhisk.common.store.usage import ActionUsage, Usage
from pywhisk.common.store.writebehind import WriteBehind

_BATCH_MAX = 500

log = logging.getLogger(__name__)


class CouchDBActivations(WriteBehind, ActivationStore):
    def __init__(self, couch: CouchClient, db: str) -> None:
        self._couch = couch
        self._db = db
        # doc id → document to write, oldest first; a second put of one id replaces the first.
        self._pending: dict[str, Doc] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def put(self, doc: Doc) -> None:
        doc_id = f"{doc['namespace']}/{doc['activationId']}"
        self._pending[doc_id] = {**doc, "_id": doc_id}
        self._wake()

    def _requeue(self, docs: dict[str, Doc]) -> None:
        # Older than anything queued since; a newer put of the same id keeps its version.
        self._pending = {**docs, **self._pending}

    async def flush(self) -> None:
        """Write what is queued now; on failure the unwritten records stay queued and the
        error is raised."""
        async with self._lock:
            queued, self._pending = self._pending, {}
            ids = list(queued)
            for first in range(0, len(ids), _BATCH_MAX):
                batch = {i: queued[i] for i in ids[first : first + _BATCH_MAX]}
                try:
                    answers = await self._couch.bulk_docs(self._db, list(batch.values()))
                except BaseException:
                    self._requeue({i: queued[i] for i in ids[first:]})
                    raise
                refused = self._refused(batch, answers)
                if refused:
                    self._requeue({**refused, **{i: queued[i] for i in ids[first + len(batch) :]}})
                    raise StoreError(f"CouchDB refused {len(refused)} activation records")

    @staticmethod
    def _refused(batch: dict[str, Doc], answers: list[dict[str, Any]]) -> dict[str, Doc]:
        """The documents of `batch` that are not stored. CouchDB answers one item per
        document, in order; pouchdb-server in any order, so they are matched by id."""
        stored: set[str] = set()
        for answer in answers:
            if answer.get("ok") or answer.get("error") == "conflict":
                stored.add(answer.get("id", ""))
            else:
                with activation_context(str(answer.get("id", "")).rpartition("/")[2]):
                    log.error(
                        "CouchDB refused activation record %s: %s %s",
                        answer.get("id"),
                        answer.get("error"),
                        answer.get("reason"),
                    )
        return {i: doc for i, doc in batch.items() if i not in stored}

    async def get(self, namespace: str, activation_id: str) -> Doc | None:
        await self._flush_for_read()
        doc = await self._couch.get_doc(self._db, f"{namespace}/{activation_id}")
        if doc is None or doc.get("namespace") != namespace:
            return None
        doc.pop("_id", None)
        doc.pop("_rev", None)
        return doc

    @staticmethod
    def _range(
        namespace: str, name: str | None, since: int | None, upto: int | None
    ) -> tuple[str, dict[str, Any]]:
        """View and descending key range: newest `start` first, both ends inclusive."""
        prefix: list[Any] = [namespace] if name is None else [namespace, name]
        view = "by_namespace" if name is None else "by_name"
        high = [*prefix, upto if upto is not None else {}]
        low = [*prefix, since] if since is not None else prefix
        return view, {"descending": True, "startkey": high, "endkey": low}

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
        view, keys = self._range(namespace, name, since, upto)
        rows = await self._couch.view(
            self._db,
            ACTIVATIONS,
            view,
            reduce=False,
            include_docs=True,
            skip=skip or None,
            limit=limit,
            **keys,
        )
        docs = []
        for row in rows:
            if doc := row.get("doc"):
                doc.pop("_id", None)
                doc.pop("_rev", None)
                docs.append(doc)
        return docs

    async def count(
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
    ) -> int:
        await self._flush_for_read()
        view, keys = self._range(namespace, name, since, upto)
        return await self._couch.view_count(self._db, ACTIVATIONS, view, **keys)

    async def usage(
        self, namespace: str, *, since: int | None = None, upto: int | None = None
    ) -> Usage:
        """The usage view's values over the range, summed here: rows carry four numbers,
        never the records."""
        await self._flush_for_read()
        low = [namespace, since] if since is not None else [namespace]
        high: list[Any] = [namespace, upto if upto is not None else {}]
        rows = await self._couch.view(self._db, USAGE, "usage", startkey=low, endkey=high)
        by: dict[str, ActionUsage] = {}
        for row in rows:
            name, mb_ms, cold, error = row["value"]
            u = by.get(name)
            if u is None:
                u = by[name] = ActionUsage(name)
            u.invocations += 1
            u.mb_ms += int(mb_ms)
            u.cold_starts += int(cold)
            u.errors += int(error)
        return sorted(by.values(), key=lambda u: u.name)
