"""CouchDB store for the cluster preset: `couchdb://user:password@host:5984/prefix`.

Three databases as OpenWhisk keeps them, `<prefix>whisks`, `<prefix>activations` and
`<prefix>subjects`, created with their design documents (`couchdb_design`) by `open()`.
Requests go through one `couchdb3.aio.AsyncServer`: one httpx pool and one `/_session`
cookie for all three databases, so the event loop never waits on the network and a hot-path
read (entity by id, identity by key) is one HTTP request.

Document ids are OpenWhisk's (`ns/pkg/name`, `ns/activationId`, `<subject>`, `<ns>/limits`),
stored as the real `_id`. couchdb3 puts ids into URL paths as they are, so `guest/hello`
would address an attachment; every id is percent-encoded here (`guest%2Fhello`), which
CouchDB and pouchdb-server decode back to the one document. Callers get documents without
`_id`/`_rev`; the revision is CouchDB's `_rev`, passed through as an opaque string.
CouchDB keeps ids that start with `_` for itself, so a namespace named `_x` cannot be
stored here (a 400 from CouchDB, raised as `StoreError`); reads of such ids find nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import couchdb3.exceptions as couch_errors
import httpx
from couchdb3.aio import AsyncServer

from pywhisk.common import jsonio
from pywhisk.common.store.base import Conflict, Doc, EntityStore, Store, StoreError, StoreMissing
from pywhisk.common.store.couchdb_activations import CouchDBActivations
from pywhisk.common.store.couchdb_claims import CouchDBClaims
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

log = logging.getLogger(__name__)

# A slow view build (first query after many writes) may take long; a dead host may not.
_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_DB_NAME = re.compile(r"[a-z][a-z0-9_$()+-]*")
_REV = re.compile(r"[0-9]+-[0-9a-zA-Z]+")
# What a status means when couchdb3 raises for it (it keeps only the body's text).
_STATUS = {
    couch_errors.BadRequestError: 400,
    couch_errors.UnauthorizedError: 401,
    couch_errors.ForbiddenError: 403,
    couch_errors.NotFoundError: 404,
    couch_errors.ConflictError: 409,
    couch_errors.PreconditionFailedError: 412,
    couch_errors.RequestEntityTooLargeError: 413,
}


class CouchError(StoreError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return jsonio.dumps_str(value)  # keys: JSON, as CouchDB reads them


def strip(doc: Doc) -> Doc:
    doc.pop("_id", None)
    doc.pop("_rev", None)
    return doc


def valid_rev(rev: str) -> bool:
    """CouchDB answers 400 (not 409) to a revision it cannot parse; it is a conflict to us."""
    return _REV.fullmatch(rev) is not None


class CouchClient:
    """The three databases' one connection pool and session; errors become `StoreError`s."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base_url = base_url
        self._server = AsyncServer(base_url, user=user, password=password, timeout=60)

    async def close(self) -> None:
        await self._server.aclose()

    async def request(
        self,
        method: str,
        db: str,
        resource: str = "",
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded JSON answer; `Conflict` on 409, `CouchError` on other refusals."""
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        content = None if body is None else jsonio.dumps(body)
        for attempt in (1, 2):
            try:
                response = await self._server._request(
                    method=method,
                    resource=resource or None,
                    root=db,
                    query_kwargs=query,
                    timeout=_TIMEOUT,  # type: ignore[arg-type]
                    content=content,
                )
                return jsonio.loads(response.content) if response.content else None
            except couch_errors.UnauthorizedError:
                # The session cookie outlived the server's secret (a restart of an in-memory
                # server, a rotated secret): log in again, once.
                if attempt == 2:
                    raise CouchError(401, f"CouchDB at {self.base_url} refused the login") from None
                self._server.session.cookies.clear()
            except couch_errors.ConflictError as e:
                raise Conflict(f"{db}/{unquote(resource)}") from e
            except couch_errors.CouchDBError as e:
                status = _STATUS.get(type(e), 500)
                raise CouchError(status, f"CouchDB {method} {db}/{resource}: {status} {e}") from e
            except httpx.HTTPStatusError as e:
                status = e.response.status_code
                raise CouchError(status, f"CouchDB {method} {db}/{resource}: {status}") from e
            except httpx.TransportError as e:
                # A kept-alive connection the server closed as it was reused: a GET is safe
                # to send again, once; a write might have been applied, so it is not.
                if attempt == 2 or method != "GET":
                    raise CouchError(0, f"CouchDB at {self.base_url} unreachable: {e!r}") from e
            except httpx.HTTPError as e:
                raise CouchError(0, f"CouchDB at {self.base_url}: {e!r}") from e
        raise AssertionError("unreachable")

    async def get_doc(self, db: str, doc_id: str) -> Doc | None:
        if doc_id.startswith("_"):  # CouchDB's own (_design/…), or an id it refuses to hold
            return None
        try:
            doc: Doc = await self.request("GET", db, quote(doc_id, safe=""))
        except CouchError as e:
            if e.status == 404:
                return None
            raise
        return doc

    async def put_doc(self, db: str, doc_id: str, doc: Doc) -> str:
        """Write `doc` (its `_rev`, if any, is the one replaced); the new revision."""
        try:
            answer = await self.request("PUT", db, quote(doc_id, safe=""), body=doc)
        except CouchError as e:
            if e.status == 404 and "_rev" in doc:  # replacing a document that is gone
                raise Conflict(doc_id) from e
            raise
        return str(answer["rev"])

    async def delete_doc(self, db: str, doc_id: str, rev: str) -> None:
        if not valid_rev(rev):
            raise Conflict(doc_id)
        try:
            await self.request("DELETE", db, quote(doc_id, safe=""), params={"rev": rev})
        except CouchError as e:
            if e.status in (400, 404):  # gone already, or a revision it cannot parse
                raise Conflict(doc_id) from e
            raise

    async def view(self, db: str, design: str, view: str, **params: Any) -> list[dict[str, Any]]:
        answer = await self.request("GET", db, f"_design/{design}/_view/{view}", params=params)
        return answer["rows"]  # type: ignore[no-any-return]

    async def view_count(self, db: str, design: str, view: str, **params: Any) -> int:
        rows = await self.view(db, design, view, reduce=True, **params)
        return int(rows[0]["value"]) if rows else 0

    async def ensure_database(self, db: str) -> None:
        try:
            await self.request("PUT", db)
        except CouchError as e:
            if e.status != 412:  # 412: it exists
                raise

    async def ensure_design(self, db: str, name: str, design: Doc) -> None:
        """Create the design document if missing. One that exists is never rewritten
        (its name carries its version); if it differs from ours, someone changed a view
        without bumping that version, which is worth a warning."""
        doc_id = f"_design/{name}"
        for _ in range(3):
            current = await self.request_optional("GET", db, doc_id)
            if current is not None:
                if {k: current.get(k) for k in design} != design:
                    log.warning("%s/%s differs from this release's; bump its version", db, doc_id)
                return
            try:
                await self.request("PUT", db, doc_id, body=design)
                log.info("created %s/%s", db, doc_id)
                return
            except Conflict:
                continue  # another process created it a moment ago: compare with theirs
        raise StoreError(f"could not create {db}/{doc_id}")

    async def request_optional(self, method: str, db: str, resource: str) -> Any:
        try:
            return await self.request(method, db, resource)
        except CouchError as e:
            if e.status == 404:
                return None
            raise


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
        body = {**doc, "_id": doc_id}
        body.pop("_rev", None)
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
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    base = f"http://{host}:{parts.port or 5984}"
    return base, unquote(parts.username or ""), unquote(parts.password or ""), prefix


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
                missing = [
                    db
                    for db in self.databases.values()
                    if await couch.request_optional("GET", db, "") is None
                ]
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
                    await couch.ensure_design(self.databases[family], design, doc)
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
