"""Namespaces and their keys in CouchDB, in OpenWhisk's subjects-database shape (§2.7).

A subject document `{_id: subject, subject, namespaces: [{name, uuid, key}]}` holds the
namespaces of one subject; `<ns>/limits` holds a namespace's limit overrides. The
`identities` view answers both lookups the controller makes (by namespace, by uuid + key)
with the limits document linked in, so each is one request. Writes are read-modify-write
of the subject document at its revision, retried on a conflict.
"""

from __future__ import annotations

from typing import Any

from pywhisk.common.entities.identity import Identity, NamespaceLimits
from pywhisk.common.retry import Backoff, retry
from pywhisk.common.store.base import Conflict, SubjectStore
from pywhisk.common.store.couchdb_client import CouchClient
from pywhisk.common.store.couchdb_design import SUBJECTS
from pywhisk.common.store.records import Doc

# Another writer changed a document between our read and our write: read it again.
_AGAIN = Backoff(0.005, factor=2, retries=7)
_OUR_LIMITS = frozenset(NamespaceLimits.model_fields)


def limits_id(namespace: str) -> str:
    return f"{namespace}/limits"


class CouchDBSubjects(SubjectStore):
    def __init__(self, couch: CouchClient, db: str) -> None:
        self._couch = couch
        self._db = db

    @staticmethod
    def _identity(row: dict[str, Any]) -> Identity:
        value = row["value"]
        return Identity(
            namespace=value["namespace"],
            subject=row["id"],
            uuid=value["uuid"],
            key=value["key"],
            # pouchdb-server leaves `doc` out when the linked document is missing.
            limits=NamespaceLimits.stored(row.get("doc") or {}),
        )

    async def _lookup(self, key: list[str]) -> Identity | None:
        rows = await self._couch.view(
            self._db, SUBJECTS, "identities", key=key, include_docs=True, limit=1
        )
        return self._identity(rows[0]) if rows else None

    async def by_auth(self, uuid: str, key: str) -> Identity | None:
        return await self._lookup([uuid, key])

    async def by_namespace(self, namespace: str) -> Identity | None:
        return await self._lookup([namespace])

    async def all(self) -> list[Identity]:
        rows = await self._couch.view(self._db, SUBJECTS, "identities", include_docs=True)
        found = [self._identity(row) for row in rows if len(row["key"]) == 1]
        return sorted(found, key=lambda identity: identity.namespace)

    async def put(self, identity: Identity) -> None:
        await retry(lambda: self._put_once(identity), _AGAIN, on=Conflict)

    async def delete(self, namespace: str) -> bool:
        return await retry(lambda: self._delete_once(namespace), _AGAIN, on=Conflict)

    async def _holders(self, namespace: str) -> list[str]:
        """Ids of the subject documents that list `namespace` (one, unless hand-edited)."""
        rows = await self._couch.view(self._db, SUBJECTS, "identities", key=[namespace])
        return sorted({row["id"] for row in rows})

    async def _put_once(self, identity: Identity) -> None:
        namespace = identity.namespace
        # Limits first: an identity readable by its key already has its limits.
        await self._write_limits(namespace, identity.limits.to_json())
        for holder in await self._holders(namespace):
            if holder != identity.subject:  # the namespace moves to another subject
                await self._drop_namespace(holder, namespace)
        entry = {"name": namespace, "uuid": identity.uuid, "key": identity.key}
        doc = await self._couch.get_doc(self._db, identity.subject) or {
            "_id": identity.subject,
            "subject": identity.subject,
            "namespaces": [],
        }
        others = [n for n in doc.get("namespaces", ()) if n.get("name") != namespace]
        doc["namespaces"] = [*others, entry]
        await self._couch.put_doc(self._db, identity.subject, doc)

    async def _delete_once(self, namespace: str) -> bool:
        holders = await self._holders(namespace)
        for holder in holders:
            await self._drop_namespace(holder, namespace)
        limits = await self._couch.get_doc(self._db, limits_id(namespace))
        if limits is not None:
            await self._couch.delete_doc(self._db, limits_id(namespace), limits["_rev"])
        return bool(holders)

    async def _drop_namespace(self, subject: str, namespace: str) -> None:
        doc = await self._couch.get_doc(self._db, subject)
        if doc is None:
            return
        doc["namespaces"] = [n for n in doc.get("namespaces", ()) if n.get("name") != namespace]
        if doc["namespaces"]:
            await self._couch.put_doc(self._db, subject, doc)
        else:  # a subject with no namespace left is removed, as wskadmin does
            await self._couch.delete_doc(self._db, subject, doc["_rev"])

    async def _write_limits(self, namespace: str, limits: dict[str, Any]) -> None:
        """Our overrides replace ours; fields OpenWhisk keeps there too (allowedKinds,
        storeActivations, …) stay. Nothing left: no document."""
        doc_id = limits_id(namespace)
        current: Doc = await self._couch.get_doc(self._db, doc_id) or {"_id": doc_id}
        wanted = {k: v for k, v in current.items() if k not in _OUR_LIMITS} | limits
        if wanted == current:
            return
        if set(wanted) - {"_id", "_rev"}:
            await self._couch.put_doc(self._db, doc_id, wanted)
        elif "_rev" in current:
            await self._couch.delete_doc(self._db, doc_id, current["_rev"])
