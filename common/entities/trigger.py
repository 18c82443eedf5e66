"""Triggers: named channels of events, with the rules they fire (docs/openwhisk-compatibility.md §1.4, §2.3).

A trigger document keeps, besides its own fields, the `rules` map that firing reads: for
each rule linked to it (keyed by the rule's doc id, `ns/rule`), the action that rule runs
and whether it is active. Rules write their link here; a rule's status *is* this link.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pywhisk.common.entities.params import KeyValue, Params
from pywhisk.common.entities.params import get as get_param
from pywhisk.common.names import QualifiedName

FEED_ANNOTATION = "feed"  # the feed action a trigger was created with (`/ns/pkg/feed`)

RuleStatus = Literal["active", "inactive"]
ACTIVE: RuleStatus = "active"
INACTIVE: RuleStatus = "inactive"


class EntityRef(BaseModel):
    """OpenWhisk's `{path, name}` form of a fully qualified name (`path` = `ns` or `ns/pkg`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str
    name: str

    @classmethod
    def of(cls, fqn: QualifiedName) -> EntityRef:
        return cls(path=fqn.path, name=fqn.name)

    @property
    def fqn(self) -> QualifiedName:
        return QualifiedName.at(self.path, self.name)

    @property
    def doc_id(self) -> str:
        return f"{self.path}/{self.name}"

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "name": self.name}


class RuleLink(BaseModel):
    """What a trigger keeps of a rule (OW ReducedRule): the action it runs, and its status."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    action: EntityRef
    status: RuleStatus

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action.to_json(), "status": self.status}


class WebhookKey(BaseModel):
    """A trigger's webhook (a pywhisk extension): only the SHA-256 of its secret is kept, so
    whoever reads the store learns nothing that fires the trigger."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sha256: str
    created: int

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "created": self.created}


class Trigger(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    name: str
    version: str = "0.0.1"
    publish: bool = False
    parameters: Params = ()
    limits: dict[str, Any] = {}
    annotations: Params = ()
    rules: dict[str, RuleLink] | None = None  # None until a rule is first linked
    updated: int = 0
    webhook: WebhookKey | None = None  # stored, never shown: see `to_doc`

    @property
    def doc_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def fqn(self) -> QualifiedName:
        return QualifiedName(self.namespace, self.name)

    def annotation(self, key: str, default: Any = None) -> Any:
        return get_param(self.annotations, key, default)

    def active_rules(self) -> dict[str, RuleLink]:
        return {k: v for k, v in (self.rules or {}).items() if v.status == ACTIVE}

    def with_link(self, rule_id: str, link: RuleLink | None) -> Trigger:
        """This trigger with `rule_id` linked as `link`, or unlinked when `link` is None."""
        rules = {k: v for k, v in (self.rules or {}).items() if k != rule_id}
        if link is not None:
            rules[rule_id] = link
        return self.model_copy(update={"rules": rules})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "parameters": [p.to_json() for p in self.parameters],
            "limits": dict(self.limits),
            "annotations": [p.to_json() for p in self.annotations],
        }
        if self.rules is not None:
            out["rules"] = {k: v.to_json() for k, v in self.rules.items()}
        out["updated"] = self.updated
        return out

    def to_doc(self) -> dict[str, Any]:
        """The stored form: the API form plus the webhook's key, which no GET returns."""
        doc = {**self.to_json(), "entityType": "trigger"}
        if self.webhook is not None:
            doc["webhook"] = self.webhook.to_json()
        return doc

    def summary(self) -> dict[str, Any]:
        """The list-view item (OW `triggers` view)."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "annotations": [p.to_json() for p in self.annotations],
            "updated": self.updated,
        }


class TriggerPut(BaseModel):
    """PUT body: everything optional; namespace/name come from the URL; `rules` are never
    the caller's to set."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    parameters: list[KeyValue] | None = None
    limits: dict[str, Any] | None = None
    version: str | None = None
    publish: bool | None = None
    annotations: list[KeyValue] | None = None
