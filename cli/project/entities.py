"""The plan's types: what a manifest deploys, entity by entity, and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PACKAGE = "default"  # wskdeploy's name for "straight into the namespace"
ORDER = ("package", "action", "sequence", "trigger", "rule", "api")  # deploy order


@dataclass(frozen=True)
class Target:
    """Where the plan deploys: the namespace's real name, the API host's base URL, the key."""

    namespace: str
    api_base: str  # e.g. http://127.0.0.1:3233/api
    auth: str


@dataclass
class Entity:
    kind: str  # one of ORDER
    name: str  # as wskdeploy prints it: `pkg/action`, or `api /base/path GET` for APIs
    line: int
    body: dict[str, Any]
    feed: str = ""  # trigger: the feed action, fully qualified
    feed_params: dict[str, Any] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    # an action's package parameters, which the server shows merged under the action's own
    inherited: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    path: Path
    project: str
    entities: list[Entity]
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Entity]:
        return [e for e in self.entities if e.kind == kind]
