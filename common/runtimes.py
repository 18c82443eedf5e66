"""The runtime manifest: which kinds exist, their defaults and aliases (docs/openwhisk-compatibility.md §2.2).

`<family>:default` and the aliases clients send (`python:3`) resolve to a concrete kind,
which is what gets stored on the action, as OpenWhisk does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

BLACKBOX = "blackbox"
SEQUENCE = "sequence"


@dataclass(frozen=True, slots=True)
class Runtime:
    kind: str
    family: str
    language: str
    default: bool
    image: str
    commands: tuple[str, ...]
    install: str
    aliases: tuple[str, ...] = ()
    stem_cells: tuple[tuple[int, int], ...] = ()  # (count, memory MB)

    def info(self) -> dict[str, Any]:
        """The `/` info entry (OW ExecManifest.toJson)."""
        return {
            "kind": self.kind,
            "image": self.image,
            "deprecated": False,
            "default": self.default,
            "attached": False,
            "requireMain": False,
        }


def blackbox(image: str) -> Runtime:
    """A blackbox action's runtime: its own image, which must speak /init and /run on port
    8080 like ours (§4.1). Only container backends that run images can start it."""
    return Runtime(
        kind=BLACKBOX,
        family=BLACKBOX,
        language=BLACKBOX,
        default=False,
        image=image,
        commands=(),
        install="",
    )


@dataclass(frozen=True, slots=True)
class Manifest:
    runtimes: tuple[Runtime, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(r.kind for r in self.runtimes)

    def resolve(self, kind: str) -> Runtime | None:
        kind = kind.strip().lower()
        family, _, version = kind.partition(":")
        for runtime in self.runtimes:
            if kind == runtime.kind or kind in runtime.aliases:
                return runtime
            if version == "default" and family == runtime.family and runtime.default:
                return runtime
        return None

    def unsupported_message(self, kind: str) -> str:
        valid = ", ".join(f"'{k}'" for k in (*self.kinds, BLACKBOX, SEQUENCE))
        return (
            f"The specified runtime '{kind}' is not supported by this platform. "
            f"Valid values are: {valid}."
        )

    def info(self) -> dict[str, list[dict[str, Any]]]:
        families: dict[str, list[dict[str, Any]]] = {}
        for runtime in self.runtimes:
            families.setdefault(runtime.family, []).append(runtime.info())
        return families


def parse(data: dict[str, Any]) -> Manifest:
    runtimes = []
    for family, entries in data["runtimes"].items():
        for entry in entries:
            runtimes.append(
                Runtime(
                    kind=entry["kind"],
                    family=family,
                    language=entry.get("language", family),
                    default=bool(entry.get("default", False)),
                    image=entry["image"],
                    commands=tuple(entry.get("commands", ())),
                    install=entry.get("install", ""),
                    aliases=tuple(entry.get("aliases", ())),
                    stem_cells=tuple(
                        (int(c["initialCount"]), int(c["memory"]))
                        for c in entry.get("stemCells", ())
                    ),
                )
            )
    return Manifest(tuple(runtimes))


@cache
def default_manifest() -> Manifest:
    text = resources.files("pywhisk.common").joinpath("runtimes.json").read_text()
    return parse(json.loads(text))
