"""How a built-in package and its actions are described (data only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CatalogAction:
    name: str
    source: Path  # the action's code, a single Python file with `main`
    description: str
    parameters: tuple[dict[str, Any], ...] = ()  # documented inputs (OW `parameters` annotation)
    sample_input: dict[str, Any] | None = None
    sample_output: dict[str, Any] | None = None
    feed: bool = False  # a feed action (OW annotation `feed: true`; listed under `feeds`)
    bound: dict[str, Any] = field(default_factory=dict)  # parameters bound to the action

    def annotations(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.feed:
            out["feed"] = True
        if self.parameters:
            out["parameters"] = list(self.parameters)
        if self.sample_input is not None:
            out["sampleInput"] = self.sample_input
        if self.sample_output is not None:
            out["sampleOutput"] = self.sample_output
        return out


@dataclass(frozen=True)
class CatalogPackage:
    name: str
    description: str
    actions: tuple[CatalogAction, ...] = field(default=())
    bound: dict[str, Any] = field(default_factory=dict)  # parameters bound to the package
    parameters: tuple[dict[str, Any], ...] = ()  # documented (OW `parameters` annotation)

    def annotations(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.parameters:
            out["parameters"] = list(self.parameters)
        return out
