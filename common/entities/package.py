"""The package entity: a package, or a binding to another one (docs/openwhisk-compatibility.md §1.6, §2.5).

A binding is a package document whose `binding` names the package it stands for; it holds
no actions of its own, only parameters that sit between the bound package's and the
action's. On the wire a plain package has `"binding": {}`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from pywhisk.common.entities.params import KeyValue, Params
from pywhisk.common.entities.params import get as get_param

BINDING_ANNOTATION = "binding"  # set by the controller on every binding (OW bindingAnnotation)
FEED_ANNOTATION = "feed"  # marks a package's feed actions (listed under `feeds`, not `actions`)


class Binding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    name: str

    @property
    def doc_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_json(self) -> dict[str, str]:
        return {"namespace": self.namespace, "name": self.name}


def _no_binding_if_empty(value: Any) -> Any:
    # OW reads `{}` as "not a binding" in both the stored document and the PUT body.
    return None if value == {} else value


class Package(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    name: str
    version: str = "0.0.1"
    publish: bool = False
    binding: Binding | None = None
    parameters: Params = ()
    annotations: Params = ()
    updated: int = 0

    _empty_binding = field_validator("binding", mode="before")(_no_binding_if_empty)

    @property
    def doc_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def path(self) -> str:
        """The `namespace` field of the actions this package holds."""
        return self.doc_id

    def annotation(self, key: str, default: Any = None) -> Any:
        return get_param(self.annotations, key, default)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "binding": self.binding.to_json() if self.binding else {},
            "parameters": [p.to_json() for p in self.parameters],
            "annotations": [p.to_json() for p in self.annotations],
            "updated": self.updated,
        }

    def summary(self) -> dict[str, Any]:
        """The list-view item (OW `packages` view): `binding` is false for a package."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "annotations": [p.to_json() for p in self.annotations],
            "binding": self.binding.to_json() if self.binding else False,
            "updated": self.updated,
        }


class PackagePut(BaseModel):
    """PUT body: everything optional; namespace/name come from the URL."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    binding: Binding | None = None
    parameters: list[KeyValue] | None = None
    version: str | None = None
    publish: bool | None = None
    annotations: list[KeyValue] | None = None

    _empty_binding = field_validator("binding", mode="before")(_no_binding_if_empty)


def package_action(doc: dict[str, Any]) -> dict[str, Any]:
    """How GET package lists one of its actions (OW WhiskPackageAction)."""
    return {
        "name": doc.get("name"),
        "version": doc.get("version", "0.0.1"),
        "annotations": doc.get("annotations") or [],
    }


def is_feed(doc: dict[str, Any]) -> bool:
    return any(a.get("key") == FEED_ANNOTATION for a in doc.get("annotations") or ())
