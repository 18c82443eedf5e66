"""The store family: entities, activation records and subjects (namespaces + keys).

Implementations: `SqliteStore` (standalone), `CouchDBStore` (cluster). Every one passes the
contract suite `tests/contract/store_behavior.py`. Documents are plain JSON dicts in
OpenWhisk's shape; revisions are opaque strings used for optimistic concurrency (CouchDB
`_rev` semantics).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from pywhisk.common import plugins
from pywhisk.common.entities.identity import Identity
from pywhisk.common.store.claims import ClaimStore
from pywhisk.common.store.journal import ActivationJournal
from pywhisk.common.store.records import Doc

if TYPE_CHECKING:
    from pywhisk.common.store.usage import Usage


STORES = {
    "sqlite": "pywhisk.common.store.sqlite:SqliteStore",
    "couchdb": "pywhisk.common.store.couchdb:CouchDBStore",
}


class StoreError(Exception):
    pass


class StoreMissing(StoreError):
    """`open(create=False)` found no store where the URL points (nothing was created)."""


class Conflict(StoreError):
    """The document changed (or exists) since the revision the writer saw."""


class EntityStore(ABC):
    """Actions, triggers, rules and packages, keyed `ns[/pkg]/name`."""

    @abstractmethod
    async def get(self, doc_id: str) -> tuple[Doc, str] | None:
        """The document and its revision."""

    @abstractmethod
    async def put(self, doc_id: str, doc: Doc, rev: str | None) -> str:
        """Create (`rev=None`, Conflict if it exists) or replace at `rev`; returns the new rev.

        `doc` must carry `entityType` and `namespace` (`ns` or `ns/pkg`) and `updated`.
        """

    @abstractmethod
    async def delete(self, doc_id: str, rev: str) -> None:
        """Remove at `rev` (Conflict if changed or gone)."""

    @abstractmethod
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
        """Newest `updated` first. `package=None` lists the whole namespace, packages included."""

    @abstractmethod
    async def count(
        self,
        namespace: str,
        entity_type: str,
        *,
        package: str | None = None,
        public_only: bool = False,
    ) -> int: ...


class ActivationStore(ABC):
    @abstractmethod
    async def put(self, doc: Doc) -> None:
        """Store a record (API form with `response.statusCode`); idempotent by activationId.

        May return before the record is written (write-behind); `settle` waits for that."""

    async def settle(self) -> None:
        """Return once every record `put` so far is written; at once for a store that
        writes in `put`."""
        return None

    async def close(self) -> None:
        """Write what is still queued; the store's connection closes next."""
        return None

    @abstractmethod
    async def get(self, namespace: str, activation_id: str) -> Doc | None: ...

    @abstractmethod
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
        """Newest `start` first. `name` is `action` or `pkg/action` (matched on the path)."""

    @abstractmethod
    async def count(
        self,
        namespace: str,
        *,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
    ) -> int: ...

    @abstractmethod
    async def usage(
        self, namespace: str, *, since: int | None = None, upto: int | None = None
    ) -> Usage:
        """Per action, by name: what the records with `start` in [since, upto] billed
        (`common.store.usage`), computed by the store (an index or a view), not by reading
        every record into this process."""


class SubjectStore(ABC):
    @abstractmethod
    async def by_auth(self, uuid: str, key: str) -> Identity | None: ...

    @abstractmethod
    async def by_namespace(self, namespace: str) -> Identity | None: ...

    @abstractmethod
    async def put(self, identity: Identity) -> None:
        """Create or replace the namespace's identity (keys and limits)."""

    @abstractmethod
    async def delete(self, namespace: str) -> bool: ...

    @abstractmethod
    async def all(self) -> list[Identity]: ...


class Store(ABC):
    """One backend holding the three databases OpenWhisk keeps (whisks, activations, subjects),
    and the cluster's activation claims (`common.store.claims`)."""

    entities: EntityStore
    activations: ActivationStore
    subjects: SubjectStore
    claims: ClaimStore
    scheme: ClassVar[str]
    # Accepted activations kept until recorded (`journal.py`); None: this store keeps none.
    journal: ActivationJournal | None = None

    @abstractmethod
    async def open(self, create: bool = True) -> None:
        """Connect, creating the databases if missing; with `create=False` a store that
        does not exist yet raises StoreMissing instead (tools must not invent one)."""

    @abstractmethod
    async def close(self) -> None: ...


def store_from_url(url: str) -> Store:
    cls = plugins.load("store", url, STORES)
    return cls(url)  # type: ignore[no-any-return]
