"""CouchDB store for the cluster preset: `couchdb://user:password@host:5984/prefix`.

Three databases as OpenWhisk keeps them, `<prefix>whisks`, `<prefix>activations` and
`<prefix>subjects`, created with their design documents (`couchdb_design`) by `open()`.
Requests go through one `CouchClient` (`couchdb_client`): one httpx pool and one `/_session`
cookie for all the databases, so the event loop never waits on the network and a hot-path
read (entity by id, identity by key) is one HTTP request. This module assembles the parts
(`couchdb_activations`, `couchdb_claims`, `couchdb_subjects`), which know only the client.

Document ids are OpenWhisk's (`ns/pkg/name`, `ns/activationId`, `<subject>`, `<ns>/limits`),
stored as the real `_id` (the client sends them percent-encoded in paths, in bodies for
writes). Callers get documents without `_id`/`_rev`; the revision is CouchDB's `_rev`,
passed through as an opaque string.
CouchDB keeps ids that start with `_` for itself, so a namespace named `_x` cannot be
stored here (a 400 from CouchDB, raised as `StoreError`); reads of such ids find nothing.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

from pywhisk.common.store.base import Conflict, EntityStore, Store, StoreError, StoreMissing
from pywhisk.common.store.couchdb_activations import CouchDBActivations
from pywhisk.common.store.couchdb_claims import CouchDBClaims
from pywhisk.common.store.couchdb_client import CouchClient, strip, valid_rev
from pywhisk.common.store.couchdb_design import (
    ACTIVATIONS,
    ACTIVATIONS_DESIGN,
    SUBJECTS,
    SUBJECTS_DESIGN,
    USAGE,
    USAGE_DESIGN,
    WHISKS,
    WHISKS_DESIGN,
)
from pywhisk.common.store.couchdb_subjects import CouchDBSubjects
from pywhisk.common.store.records import Doc

log = logging.getLogger(__name__)

_DB_NAME = re.compile(r"[a-z][a-z0-9_$()+-]*")


class CouchDBEntities(EntityStore):
    def __init__(self, couch: CouchClient, db: str) -> None:
        self._couch = couch
        self._db = db

    async def get(self, doc_id: str) -> tuple[Doc, str] | None:
        doc = await self._couch.get_doc(self._db, doc_id)
        if doc is None:
            return None
        rev = str(doc["_rev"])
        return strip(doc), rev

    async def put(self, doc_id: str, doc: Doc, rev: str | None) -> str:
        body = {k: v for k, v in doc.items() if k != "_rev"}
        if rev is not None:
            if not valid_rev(rev):
                raise Conflict(doc_id)
            body["_rev"] = rev
        return await self._couch.put_doc(self._db, doc_id, body)

    async def delete(self, doc_id: str, rev: str) -> None:
        await self._couch.delete_doc(self._db, doc_id, rev)

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
        collection = f"{namespace}/{package}" if package is not None else namespace
        rows = await self._couch.view(
            self._db,
            WHISKS,
            "public" if public_only else "entities",
            reduce=False,
            include_docs=True,
            descending=True,
            startkey=[entity_type, collection, {}],
            endkey=[entity_type, collection],
            skip=skip or None,
            limit=limit,
        )
        return [strip(row["doc"]) for row in rows if row.get("doc")]

    async def count(
        self,
        namespace: str,
        entity_type: str,
        *,
        package: str | None = None,
        public_only: bool = False,
    ) -> int:
        collection = f"{namespace}/{package}" if package is not None else namespace
        return await self._couch.view_count(
            self._db,
            WHISKS,
            "public" if public_only else "entities",
            startkey=[entity_type, collection],
            endkey=[entity_type, collection, {}],
        )


def parse_url(url: str) -> tuple[str, str, str, str]:
    """`couchdb://user:pw@host:5984/prefix` → (http base URL, user, password, prefix)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError("a CouchDB store URL names its host: couchdb://user:pw@host:5984/prefix")
    prefix = parts.path.strip("/")
    for name in ("whisks", "activations", "subjects", "claims"):
        if not _DB_NAME.fullmatch(prefix + name):
            raise ValueError(
                f"CouchDB database prefix {prefix!r}: lowercase letters, digits and _$()+- "
                "only, starting with a letter"
            )
    if ":" in parts.hostname:
        # couchdb3 keeps a host without an IPv6 literal's brackets and writes it into every
        # request's URL so (`http://::1:5984/db`), which no HTTP client can send.
        raise ValueError(
            f"CouchDB store host {parts.hostname}: IPv6 addresses are not supported; "
            "use a host name (one that resolves to an IPv6 address works)"
        )
    base = f"http://{parts.hostname}:{parts.port or 5984}"
    return base, unquote(parts.username or ""), unquote(parts.password or ""), prefix


async def _ensure_design(couch: CouchClient, db: str, name: str, design: Doc) -> None:
    """Create the design document if missing. One that exists is never rewritten (its name
    carries its version); if it differs from ours, someone changed a view without bumping
    that version, which is worth a warning."""
    for _ in range(3):
        current = await couch.get_design(db, name)
        if current is not None:
            if {k: current.get(k) for k in design} != design:
                log.warning("%s/_design/%s differs from this release's; bump its version", db, name)
            return
        try:
            await couch.put_design(db, name, design)
            log.info("created %s/_design/%s", db, name)
            return
        except Conflict:
            continue  # another process created it a moment ago: compare with theirs
    raise StoreError(f"could not create {db}/_design/{name}")


class CouchDBStore(Store):
    scheme = "couchdb"

    def __init__(self, url: str) -> None:
        self.base_url, self._user, self._password, self.prefix = parse_url(url)
        self.databases = {
            family: f"{self.prefix}{family}"
            for family in ("whisks", "activations", "subjects", "claims")
        }
        self._couch: CouchClient | None = None

    async def open(self, create: bool = True) -> None:
        couch = CouchClient(self.base_url, self._user, self._password)
        try:
            if not create:
                missing = [db for db in self.databases.values() if not await couch.has_database(db)]
                if missing:
                    raise StoreMissing(
                        f"no pywhisk store at {self.base_url} (no database {', '.join(missing)})"
                    )
            for family, designs in {
                "whisks": [(WHISKS, WHISKS_DESIGN)],
                "activations": [(ACTIVATIONS, ACTIVATIONS_DESIGN), (USAGE, USAGE_DESIGN)],
                "subjects": [(SUBJECTS, SUBJECTS_DESIGN)],
            }.items():
                await couch.ensure_database(self.databases[family])
                for design, doc in designs:
                    await _ensure_design(couch, self.databases[family], design, doc)
            await couch.ensure_database(self.databases["claims"])
        except BaseException:
            await couch.close()
            raise
        self._couch = couch
        self.entities = CouchDBEntities(couch, self.databases["whisks"])
        self.activations = self._activations = CouchDBActivations(
            couch, self.databases["activations"]
        )
        self.subjects = CouchDBSubjects(couch, self.databases["subjects"])
        self.claims = CouchDBClaims(couch, self.databases["claims"])

    async def close(self) -> None:
        if self._couch is None:
            return
        try:
            await self._activations.close()
        finally:
            await self._couch.close()
            self._couch = None
