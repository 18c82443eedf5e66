"""Where feeds keep their state: one document per trigger with a feed, in the entity store.

A feed document lives beside the entities, under the collection `whisk.system/feeds` with
an entity type of its own per provider (`feed.alarms`, `feed.couchdb`), so every store
backend holds it without a new interface and no entity listing shows it. Its id is
`whisk.system/feeds/<provider>:<namespace>:<trigger>` (`:` appears in no entity name).

The document carries the feed's configuration (what the user asked for), its progress
(`state`: the last due time fired, the last database sequence fired, how many fires) and
its status (active or not, and why). Progress is claimed by replacing the document at the
revision read (compare-and-set): of several controllers that see the same due time or
the same change, exactly one writes the new progress, and only that one fires. The claim
is written before the fire, so a controller that dies between the two loses that one
fire rather than doubling it: at most once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pywhisk.common.store.base import Conflict, Doc, Store

HOLDER = "whisk.system/feeds"
PROVIDERS = ("alarms", "couchdb")
_PAGE = 500


def entity_type(provider: str) -> str:
    return f"feed.{provider}"


def doc_id(provider: str, namespace: str, trigger: str) -> str:
    return f"{HOLDER}/{provider}:{namespace}:{trigger}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FeedRecord:
    provider: str
    namespace: str  # the trigger's, whose owner the trigger is fired as
    trigger: str
    config: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    changed: int = 0  # when `active` last changed, epoch ms
    reason: dict[str, Any] | None = None
    created: int = 0
    rev: str | None = None

    @property
    def id(self) -> str:
        return doc_id(self.provider, self.namespace, self.trigger)

    @property
    def trigger_path(self) -> str:
        return f"/{self.namespace}/{self.trigger}"

    def to_doc(self) -> Doc:
        return {
            "namespace": HOLDER,
            "name": f"{self.provider}:{self.namespace}:{self.trigger}",
            "entityType": entity_type(self.provider),
            "updated": self.created,  # listing order only; progress does not reorder
            "trigger": {"namespace": self.namespace, "name": self.trigger},
            "config": self.config,
            "state": self.state,
            "status": {"active": self.active, "dateChanged": self.changed, "reason": self.reason},
        }

    @classmethod
    def from_doc(cls, provider: str, doc: Doc, rev: str) -> FeedRecord:
        status = doc.get("status") or {}
        return cls(
            provider=provider,
            namespace=doc["trigger"]["namespace"],
            trigger=doc["trigger"]["name"],
            config=doc.get("config") or {},
            state=doc.get("state") or {},
            active=bool(status.get("active", True)),
            changed=int(status.get("dateChanged") or 0),
            reason=status.get("reason"),
            created=int(doc.get("updated") or 0),
            rev=rev,
        )

    def disabled(
        self, message: str, kind: str = "AUTO", status_code: int | None = None
    ) -> FeedRecord:
        """This record switched off, with OW's `status.reason` shape."""
        reason: dict[str, Any] = {"kind": kind, "message": message}
        if status_code is not None:
            reason["statusCode"] = status_code
        return replace(self, active=False, changed=now_ms(), reason=reason)

    def status_json(self) -> dict[str, Any]:
        """The `status` part of a READ answer."""
        iso = datetime.fromtimestamp(self.changed / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out: dict[str, Any] = {
            "active": self.active,
            "dateChanged": self.changed,
            "dateChangedISO": iso,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class FeedRegistry:
    """The feed documents of one provider in one store."""

    def __init__(self, store: Store, provider: str) -> None:
        assert provider in PROVIDERS
        self.store = store
        self.provider = provider

    async def get(self, namespace: str, trigger: str) -> FeedRecord | None:
        found = await self.store.entities.get(doc_id(self.provider, namespace, trigger))
        if found is None:
            return None
        doc, rev = found
        return FeedRecord.from_doc(self.provider, doc, rev)

    async def reload(self, record: FeedRecord) -> FeedRecord | None:
        return await self.get(record.namespace, record.trigger)

    async def put(self, record: FeedRecord) -> FeedRecord:
        """Create (`record.rev is None`: Conflict if one exists) or replace at `record.rev`
        (Conflict if it changed since): the compare-and-set every claim goes through."""
        rev = await self.store.entities.put(record.id, record.to_doc(), record.rev)
        return replace(record, rev=rev)

    async def delete(self, record: FeedRecord) -> None:
        """Remove at `record.rev` (Conflict if it changed or is gone)."""
        assert record.rev is not None
        await self.store.entities.delete(record.id, record.rev)

    async def remove(self, namespace: str, trigger: str) -> bool:
        """Remove whatever revision is there; False if there was none."""
        while (record := await self.get(namespace, trigger)) is not None:
            try:
                await self.delete(record)
                return True
            except Conflict:
                continue  # claimed a moment ago by a scheduler: read it again
        return False

    async def switch_off(self, record: FeedRecord, message: str, status: int) -> None:
        """Disable the feed (unless it is gone or off already) after a refused fire."""
        current = await self.reload(record)
        while current is not None and current.active:
            reason = f"Trigger automatically disabled: {message}"
            try:
                await self.put(current.disabled(reason, status_code=status))
                return
            except Conflict:
                current = await self.reload(record)

    async def all(self) -> list[FeedRecord]:
        """Every feed document of this provider, without revisions (listings carry none):
        `reload` one before claiming it. Pages may shift while records are created or
        removed; a record missed is seen on the next pass."""
        found: dict[str, FeedRecord] = {}
        namespace, package = HOLDER.split("/")
        skip = 0
        while True:
            docs = await self.store.entities.list(
                namespace, entity_type(self.provider), package=package, skip=skip, limit=_PAGE
            )
            for doc in docs:
                record = FeedRecord.from_doc(self.provider, doc, "")
                found.setdefault(record.id, record)
            if len(docs) < _PAGE:
                break
            skip += _PAGE
        return list(found.values())
