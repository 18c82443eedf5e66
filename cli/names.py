"""Entity names as wsk reads them: ``name``, ``pkg/name``, ``/ns/name``, ``/ns/pkg/name``.

A leading ``/`` (or three segments, ``ns/pkg/name``) means the first segment is the
namespace; otherwise the namespace is the configured one (``_`` = the caller's own, resolved
by the server).
"""

from __future__ import annotations

from typing import NamedTuple

from pywhisk.cli.errors import EXIT_GENERAL, EXIT_NOT_ALLOWED, WskError

INVALID_NAME = "A valid qualified name must be specified."


class QualifiedName(NamedTuple):  # not a dataclass: see cli.config.Properties
    namespace: str  # without the leading "/"; "_" means the caller's namespace
    package: str  # "" when not in a package
    entity: str  # the last segment
    entity_name: str  # "pkg/entity" or "entity": what goes after the collection in URLs

    @property
    def full_name(self) -> str:
        """``/ns/[pkg/]entity``, as printed in ``ok: invoked /_/hello``."""
        parts = [self.namespace] if self.namespace else []
        if self.package:
            parts.append(self.package)
        parts.append(self.entity)
        return "/" + "/".join(parts)


def _add_lead_slash(name: str) -> str:
    parts = name.split("/")
    if len(parts) == 3 and parts[0]:
        return "/" + name
    return name


def parse_name(name: str, default_namespace: str = "_") -> QualifiedName:
    """``NewQualifiedName``; raises WskError for names wsk rejects."""
    name = _add_lead_slash(name)
    parts = name.split("/")
    if name.startswith("/"):
        if len(parts) > 4 or any(not part or part == "." for part in parts[1:]):
            raise WskError(INVALID_NAME, EXIT_NOT_ALLOWED)
        return QualifiedName(
            namespace=parts[1],
            package=parts[2] if len(parts) == 4 else "",
            entity=parts[-1],
            entity_name="/".join(parts[2:]),
        )
    if not name or name == ".":
        raise WskError(INVALID_NAME, EXIT_NOT_ALLOWED)
    return QualifiedName(
        namespace=default_namespace or "_",
        package=parts[0] if len(parts) == 2 else "",
        entity=parts[-1],
        entity_name=name,
    )


def qualified_name_error(name: str, cause: WskError) -> WskError:
    """``NewQualifiedNameError``: exits 1 and suggests ``--help``."""
    return WskError(
        f"'{name}' is not a valid qualified name: {cause.message}",
        EXIT_GENERAL,
        display_usage=True,
    )


def parse_name_or_fail(name: str, default_namespace: str = "_") -> QualifiedName:
    try:
        return parse_name(name, default_namespace)
    except WskError as err:
        raise qualified_name_error(name, err) from None


def qualify(name: str, namespace: str = "_") -> str:
    """``getQualifiedName``: the fully qualified form used in sequence components."""
    name = _add_lead_slash(name)
    if name.startswith("/"):
        return name
    if namespace.startswith("/"):
        return f"{namespace}/{name}"
    return f"/{namespace or '_'}/{name}"
