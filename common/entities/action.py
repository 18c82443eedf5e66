"""The action entity and its `exec` (docs/openwhisk-compatibility.md §2.2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pywhisk.common.entities.limits import ActionLimits, LimitsPut
from pywhisk.common.entities.params import KeyValue, Params, truthy
from pywhisk.common.entities.params import get as get_param
from pywhisk.common.names import QualifiedName


class Exec(BaseModel):
    """One model for the three exec variants; `kind` tells which fields matter.

    code kinds (`python:3.11`, …): code, main, binary; `blackbox`: image (+ optional code);
    `sequence`: components (fully-qualified names).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    code: str | None = None
    main: str | None = None
    binary: bool = False
    image: str | None = None
    components: tuple[str, ...] | None = None

    def to_json(self, with_code: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "sequence":
            out["components"] = list(self.components or ())
            return out
        if self.image is not None:
            out["image"] = self.image
        if with_code and self.code is not None:
            out["code"] = self.code
        out["binary"] = self.binary
        if self.main is not None:
            out["main"] = self.main
        return out


class Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str  # `ns` or `ns/pkg`
    name: str
    version: str = "0.0.1"
    publish: bool = False
    exec: Exec
    parameters: Params = ()
    limits: ActionLimits = Field(default_factory=ActionLimits)
    annotations: Params = ()
    updated: int = 0

    @property
    def fqn(self) -> QualifiedName:
        return QualifiedName.at(self.namespace, self.name)

    @property
    def doc_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def annotation(self, key: str, default: Any = None) -> Any:
        return get_param(self.annotations, key, default)

    @property
    def provides_api_key(self) -> bool:
        # An absent annotation means true (OW: only new actions get provide-api-key:false).
        return truthy(self.annotation("provide-api-key", True))

    def to_json(self, with_code: bool = True) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "exec": self.exec.to_json(with_code),
            "parameters": [p.to_json() for p in self.parameters],
            "limits": self.limits.to_json(),
            "annotations": [p.to_json() for p in self.annotations],
            "updated": self.updated,
        }

    def summary(self) -> dict[str, Any]:
        """The list-view item (OW `actions` view)."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "annotations": [p.to_json() for p in self.annotations],
            "limits": self.limits.to_json(),
            "exec": {"binary": self.exec.binary},
            "updated": self.updated,
        }


class ExecPut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    code: str | None = None
    main: str | None = None
    binary: bool | None = None
    image: str | None = None
    components: list[str] | None = None


class ActionPut(BaseModel):
    """PUT body: everything optional; namespace/name come from the URL."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    exec: ExecPut | None = None
    parameters: list[KeyValue] | None = None
    limits: LimitsPut | None = None
    version: str | None = None
    publish: bool | None = None
    annotations: list[KeyValue] | None = None
    delAnnotations: list[str] | None = None
