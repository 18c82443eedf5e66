"""Rules: "when this trigger fires, run that action" (docs/openwhisk-compatibility.md §1.5, §2.4).

A rule document names its trigger and action; whether it is active is not stored here but
in the trigger's `rules` map, so GET and PUT answer with a `status` read from there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from pywhisk.common.entities.params import KeyValue, Params
from pywhisk.common.entities.trigger import EntityRef, RuleStatus


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    name: str
    version: str = "0.0.1"
    publish: bool = False
    annotations: Params = ()
    trigger: EntityRef
    action: EntityRef
    updated: int = 0

    @property
    def doc_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_json(self, status: RuleStatus | None = None) -> dict[str, Any]:
        """The stored form (and list item); with `status`, OW's WhiskRuleResponse."""
        out: dict[str, Any] = {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "annotations": [p.to_json() for p in self.annotations],
        }
        if status is not None:
            out["status"] = status
        out["trigger"] = self.trigger.to_json()
        out["action"] = self.action.to_json()
        out["updated"] = self.updated
        return out


def _name_text(value: Any) -> Any:
    # `{path, name}` objects are accepted beside `/ns/name` strings (OW FQN serdes).
    if isinstance(value, dict) and "path" in value and "name" in value:
        return f"/{value['path']}/{value['name']}"
    return value


class RulePut(BaseModel):
    """PUT body: `trigger` and `action` as names (`/ns/t`, `/ns/pkg/a`, `/_/t`, or relative);
    a `status` in the body is ignored, as in OW."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    trigger: str | None = None
    action: str | None = None
    version: str | None = None
    publish: bool | None = None
    annotations: list[KeyValue] | None = None

    _names = field_validator("trigger", "action", mode="before")(_name_text)
