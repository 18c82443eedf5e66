"""The HTTP client the CouchDB store's parts share: one connection pool and one `/_session`
cookie for all its databases, couchdb3's public API only, every failure a `StoreError`.

What couchdb3 does that shapes this module:
- It puts a document id into the URL path as it is, so `guest/hello` would address an
  attachment of `guest`. Reads and deletes send the id percent-encoded (`guest%2Fhello`),
  which CouchDB and pouchdb-server decode back to the one document. `save()` takes the path
  from the body's `_id`, where an encoded id would be stored encoded, so every write goes
  through `_bulk_docs`: a POST with the id in the body only. Its answer is per document
  (`{"error": "conflict"}` where a PUT gets a 409), turned back into the same exceptions.
  `_bulk_docs` and `_bulk_get` (every claim, every record write) do not go through couchdb3
  at all but through `couchdb_post`, a connection pool of their own: see there why.
- It writes a list parameter as `["a","b"]` with every item quoted (`{}` becomes `"{}"`), so
  view keys are sent as JSON made here.
- It sends every GET with a 300 s timeout of its own. The transport under it sets the store's
  deadlines on every request: a slow view build (the first query after many writes) may take
  a minute, a dead host gets 5 s to connect.

And what the store keeps across a server's life:
- A 401 drops the session cookie and sends the request once more, which logs in again: the
  cookie outlived the server's secret (an in-memory server restarted, a secret rotated).
- A kept-alive connection the server closed as it was reused fails before any answer: a read
  is sent again, once; a write might have been applied, so it is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import couchdb3.exceptions as couch_errors
import httpx
from couchdb3.aio import AsyncDatabase, AsyncServer

from pywhisk.common import jsonio
from pywhisk.common.store.base import Conflict, StoreError
from pywhisk.common.store.couchdb_post import CouchPoster, PostFailed
from pywhisk.common.store.records import Doc

T = TypeVar("T")

# httpx's documented `timeout` request extension, in seconds.
_DEADLINES = {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}
_COOKIE = "AuthSession"
_REV = re.compile(r"[0-9]+-[0-9a-zA-Z]+")
# The status couchdb3 raised an exception for (it keeps only the body's text).
_STATUS: dict[type[couch_errors.CouchDBError], int] = {
    error: status for status, error in couch_errors.STATUS_CODE_ERROR_MAPPING.items() if error
}
# A `_bulk_docs` item's error, as the status a request for that one document would get.
_DOC_STATUS = {"unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409}


class CouchError(StoreError):
    """CouchDB refused a request (`status`), or gave no answer (`status` 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def strip(doc: Doc) -> Doc:
    doc.pop("_id", None)
    doc.pop("_rev", None)
    return doc


def valid_rev(rev: str) -> bool:
    """CouchDB answers 400 (not 409) to a revision it cannot parse; it is a conflict to us."""
    return _REV.fullmatch(rev) is not None


def _key(value: Any) -> str | None:
    return None if value is None else jsonio.dumps_str(value)  # JSON, as CouchDB reads keys


class _Deadlines(httpx.AsyncBaseTransport):
    """The store's timeouts on every request, whatever couchdb3 asked for."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions = {**request.extensions, "timeout": _DEADLINES}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class CouchClient:
    """Documents, views and databases of one CouchDB server; errors are `StoreError`s
    (`Conflict` for a 409, `CouchError` with the status for other refusals)."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base_url = base_url
        self._user = user
        self._password = password
        # The server and every database object send through this one client: one pool,
        # one cookie jar.
        self.session = httpx.AsyncClient(
            transport=_Deadlines(), headers={"Accept": "application/json"}
        )
        self._server = AsyncServer(base_url, user=user, password=password, session=self.session)
        self._databases: dict[str, AsyncDatabase] = {}
        # `_bulk_docs` and `_bulk_get`, every claim and record write: see `couchdb_post`.
        self._poster = CouchPoster(base_url, user, password)

    async def close(self) -> None:
        self._poster.close()
        await self.session.aclose()

    async def _post(self, db: str, target: str, body: Any, *, read: bool = False) -> Any:
        """POST `body` to `db/target` on the lean path; the answer of a 2xx, else a
        `StoreError` as `_call` raises it."""
        try:
            status, answer = await self._poster.post(db, target, body, read=read)
        except (PostFailed, OSError, TimeoutError) as e:
            raise CouchError(0, f"CouchDB at {self.base_url} unreachable: {e!r}") from e
        except jsonio.JSONDecodeError as e:
            raise CouchError(0, f"CouchDB POST {_path(db, target)}: not JSON: {e}") from e
        if status < 300:
            return answer
        if status == 401:
            raise CouchError(401, f"CouchDB at {self.base_url} refused the login")
        if status == 409:
            raise Conflict(_path(db, target))
        reason = answer.get("reason") if isinstance(answer, dict) else answer
        raise CouchError(status, f"CouchDB POST {_path(db, target)}: {status} {reason}")

    def _db(self, name: str) -> AsyncDatabase:
        db = self._databases.get(name)
        if db is None:
            db = self._databases[name] = AsyncDatabase(
                name,
                url=self.base_url,
                user=self._user,
                password=self._password,
                session=self.session,
            )
        return db

    def _cookie(self) -> str | None:
        # Read from the jar as couchdb3 does (`Cookies.get` raises if two cookies match).
        return next((c.value for c in self.session.cookies.jar if c.name == _COOKIE), None)

    async def _call(
        self,
        method: str,
        db: str,
        target: str,
        call: Callable[[], Awaitable[T]],
        *,
        read: bool = False,
    ) -> T:
        """`call()`, with its failures turned into `StoreError`s; called again once after a
        401 (logging in again), and once after a dropped connection if it only `read`s."""
        for attempt in (1, 2):
            cookie = self._cookie()
            try:
                return await call()
            except couch_errors.UnauthorizedError:
                if attempt == 2:
                    raise CouchError(401, f"CouchDB at {self.base_url} refused the login") from None
                # Drop the refused cookie, unless a concurrent request has replaced it already
                # (clearing that one would refuse that request's retry).
                if self._cookie() == cookie:
                    self.session.cookies.clear()
            except couch_errors.ConflictError as e:
                raise Conflict(_path(db, target)) from e
            except couch_errors.CouchDBError as e:
                status = _STATUS.get(type(e), 500)
                raise CouchError(
                    status, f"CouchDB {method} {_path(db, target)}: {status} {e}"
                ) from e
            except httpx.HTTPStatusError as e:  # a status couchdb3 has no exception for
                status = e.response.status_code
                raise CouchError(status, f"CouchDB {method} {_path(db, target)}: {status}") from e
            except httpx.TransportError as e:
                if attempt == 2 or not read:
                    raise CouchError(0, f"CouchDB at {self.base_url} unreachable: {e!r}") from e
            except httpx.HTTPError as e:
                raise CouchError(0, f"CouchDB at {self.base_url}: {e!r}") from e
            except json.JSONDecodeError as e:  # couchdb3 decodes with the standard library
                raise CouchError(0, f"CouchDB {method} {_path(db, target)}: not JSON: {e}") from e
        raise AssertionError("unreachable")

    # -- documents --------------------------------------------------------------------------
    async def get_doc(self, db: str, doc_id: str) -> Doc | None:
        if doc_id.startswith("_"):  # CouchDB's own (_design/…), or an id it refuses to hold
            return None
        database = self._db(db)
        try:
            doc = await self._call(
                "GET",
                db,
                doc_id,
                lambda: database.get(quote(doc_id, safe=""), check=True),
                read=True,
            )
        except CouchError as e:
            if e.status == 404:
                return None
            raise
        return dict(doc)  # couchdb3's Document, a dict subclass

    async def put_doc(self, db: str, doc_id: str, doc: Doc) -> str:
        """Write `doc` as `doc_id` (its `_rev`, if any, is the one replaced); the new revision."""
        body = {**doc, "_id": doc_id}
        answers = await self.bulk_docs(db, [body])
        answer = answers[0] if answers else {}
        if answer.get("ok"):
            return str(answer["rev"])
        error, reason = answer.get("error"), answer.get("reason")
        # Replacing a document that is gone: a 404 for CouchDB, a conflict to us.
        if error == "conflict" or (error == "not_found" and "_rev" in body):
            raise Conflict(f"{db}/{doc_id}")
        status = _DOC_STATUS.get(str(error), 500)
        raise CouchError(status, f"CouchDB refused {db}/{doc_id}: {status} {error} {reason}")

    async def delete_doc(self, db: str, doc_id: str, rev: str) -> None:
        if not valid_rev(rev):
            raise Conflict(doc_id)
        database = self._db(db)
        try:
            await self._call(
                "DELETE", db, doc_id, lambda: database.delete(quote(doc_id, safe=""), rev)
            )
        except CouchError as e:
            if e.status in (400, 404):  # gone already, or a revision it cannot parse
                raise Conflict(doc_id) from e
            raise

    async def bulk_docs(self, db: str, docs: list[Doc]) -> list[dict[str, Any]]:
        """Write `docs` in one request; CouchDB's answer, one item per document (CouchDB
        keeps the request's order, pouchdb-server does not: match them by id)."""
        answers = await self._post(db, "_bulk_docs", {"docs": docs})
        if not isinstance(answers, list):
            raise CouchError(0, f"CouchDB POST {db}/_bulk_docs: not a list: {answers!r:.200}")
        return answers

    async def get_docs(self, db: str, doc_ids: list[str]) -> dict[str, Doc]:
        """The documents stored under `doc_ids` (deleted ones are not), in one request."""
        answer = await self._post(
            db, "_bulk_get", {"docs": [{"id": i} for i in doc_ids]}, read=True
        )
        found: dict[str, Doc] = {}
        for result in answer.get("results", ()) if isinstance(answer, dict) else ():
            for item in result.get("docs", ()):
                # {"ok": doc} if stored (deleted: `_deleted`); CouchDB answers a missing id
                # {"error": {…}}, pouchdb-server {}.
                doc = item.get("ok")
                if doc and not doc.get("_deleted"):
                    found[doc["_id"]] = doc
        return found

    # -- views ------------------------------------------------------------------------------
    async def view(
        self,
        db: str,
        design: str,
        view: str,
        *,
        key: Any = None,
        startkey: Any = None,
        endkey: Any = None,
        descending: bool | None = None,
        include_docs: bool | None = None,
        reduce: bool | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        database = self._db(db)
        result = await self._call(
            "GET",
            db,
            f"_design/{design}/_view/{view}",
            lambda: database.view(
                design,
                view,
                key=_key(key),
                startkey=_key(startkey),
                endkey=_key(endkey),
                descending=descending,
                include_docs=include_docs,
                reduce=reduce,
                skip=skip,
                limit=limit,
            ),
            read=True,
        )
        return result["rows"]  # type: ignore[no-any-return]  # plain dicts, as CouchDB sent them

    async def view_count(
        self,
        db: str,
        design: str,
        view: str,
        *,
        startkey: Any,
        endkey: Any,
        descending: bool | None = None,
    ) -> int:
        rows = await self.view(
            db, design, view, reduce=True, startkey=startkey, endkey=endkey, descending=descending
        )
        return int(rows[0]["value"]) if rows else 0

    # -- databases and design documents ------------------------------------------------------
    async def has_database(self, db: str) -> bool:
        database = self._db(db)
        try:
            await self._call("GET", db, "", database.info, read=True)
        except CouchError as e:
            if e.status == 404:
                return False
            raise
        return True

    async def ensure_database(self, db: str) -> None:
        try:
            await self._call("PUT", db, "", lambda: self._server.create(db))
        except CouchError as e:
            if e.status != 412:  # 412: it exists
                raise

    async def get_design(self, db: str, name: str) -> Doc | None:
        database = self._db(db)
        try:
            design = await self._call(
                "GET",
                db,
                f"_design/{name}",
                lambda: database.get_design(name, check=True),
                read=True,
            )
        except CouchError as e:
            if e.status == 404:
                return None
            raise
        return dict(design)

    async def put_design(self, db: str, name: str, design: Doc) -> None:
        """Create the design document `name` (`Conflict` if it exists)."""
        database = self._db(db)
        await self._call("PUT", db, f"_design/{name}", lambda: database.put_design(name, **design))


def _path(db: str, target: str) -> str:
    return f"{db}/{target}" if target else db
