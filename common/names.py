"""Entity names and paths as OpenWhisk spells them (docs/openwhisk-compatibility.md §1.1, §2.1).

A fully-qualified name is `/namespace[/package]/name`. Store ids drop the leading slash.
The `_` namespace segment stands for the caller's own namespace and is resolved as early
as possible so that nothing past the HTTP layer ever sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# OW ent/EntityPath.scala: one word char, or word char + up to 254 of [\w@ .&-] + a non-space.
_NAME = re.compile(r"\A(?:\w|\w[\w@ .&-]{0,254}[\w@.&-])\Z")
DEFAULT_NAMESPACE = "_"


class InvalidName(ValueError):
    """A name or namespace that OpenWhisk would reject with 400."""


def is_valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def check_name(name: str) -> str:
    if not is_valid_name(name):
        raise InvalidName("The name of the entity contains illegal characters.")
    return name


def check_namespace(namespace: str) -> str:
    if namespace != DEFAULT_NAMESPACE and not is_valid_name(namespace):
        raise InvalidName("The namespace contains illegal characters.")
    return namespace


@dataclass(frozen=True, slots=True)
class QualifiedName:
    """`namespace[/package]/name`, with `_` already resolved."""

    namespace: str
    name: str
    package: str | None = None

    @property
    def path(self) -> str:
        """The entity's `namespace` field: `ns` or `ns/pkg`."""
        return f"{self.namespace}/{self.package}" if self.package else self.namespace

    @property
    def doc_id(self) -> str:
        return f"{self.path}/{self.name}"

    @property
    def relative(self) -> str:
        """`[pkg/]name`, as used in web URLs and activation name filters."""
        return f"{self.package}/{self.name}" if self.package else self.name

    def __str__(self) -> str:
        return f"/{self.doc_id}"

    def to_json(self) -> dict[str, str]:
        """OpenWhisk's `{path, name}` serialization (rules, triggers)."""
        return {"path": self.path, "name": self.name}

    @classmethod
    def at(cls, path: str, name: str) -> QualifiedName:
        """The entity `name` whose `namespace` field (`ns` or `ns/pkg`) is `path`."""
        ns, _, pkg = path.partition("/")
        return cls(ns, name, pkg or None)

    @classmethod
    def parse(cls, text: str, default_namespace: str) -> QualifiedName:
        """Parse `name`, `pkg/name`, `/ns/name` or `/ns/pkg/name`; `_` becomes the default.

        Relative names live in the caller's namespace, as the wsk CLI and OW resolve them.
        """
        absolute = text.startswith("/")
        parts = text.strip("/").split("/")
        if any(p == "" for p in parts) or not parts:
            raise InvalidName("The name of the entity contains illegal characters.")
        if absolute:
            if len(parts) not in (2, 3):
                raise InvalidName("The name of the entity contains illegal characters.")
            ns, rest = parts[0], parts[1:]
        else:
            if len(parts) > 2:
                raise InvalidName("The name of the entity contains illegal characters.")
            ns, rest = DEFAULT_NAMESPACE, parts
        check_namespace(ns)
        for part in rest:
            check_name(part)
        if ns == DEFAULT_NAMESPACE:
            ns = default_namespace
        if len(rest) == 2:
            return cls(ns, rest[1], rest[0])
        return cls(ns, rest[0])
