"""Reading a manifest's YAML while keeping where every value came from.

A refusal is only useful if it points at the line to fix (`manifest.yaml:12: action 'x':
runtime 'cobol' is not supported`), and plain `yaml.safe_load` forgets positions. The
loader here is PyYAML's safe loader with its mapping and sequence constructors replaced:
mappings become `Node` dicts that remember the line of each key, sequences `NodeList`s
that remember their own; scalars stay plain Python values, resolved as YAML 1.1 resolves
them (so `web: yes` is a boolean, as wskdeploy's YAML library reads it too).

Environment substitution follows wskdeploy's: a value that is exactly `$NAME`, or holds
`${NAME}` anywhere, takes the variable's value; `$${NAME}` is the literal `${NAME}`.
Unlike wskdeploy, an unset variable is a refusal naming the line, not an empty string: a
database DSN silently deployed as "" is a failure found much later.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from typing import Any

import yaml


class ManifestError(Exception):
    """A refusal of the manifest (or deployment file): `file:line: what`."""

    def __init__(self, where: str, line: int, message: str) -> None:
        super().__init__(f"{where}:{line}: {message}" if line else f"{where}: {message}")
        self.where = where
        self.line = line
        self.message = message


class Node(dict[str, Any]):
    """A YAML mapping: the dict, the line it starts on, and the line of each key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class NodeList(list[Any]):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise ManifestError("", key_node.start_mark.line + 1, "keys must be plain names")
        key = str(key)
        if key in result.key_lines:
            raise ManifestError("", key_node.start_mark.line + 1, f"'{key}' is given twice")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    result = NodeList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)  # type: ignore[arg-type]


def load(text: str, where: str) -> Node:
    """The document's top mapping; a YAML syntax error names its line."""
    try:
        document = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except ManifestError as err:
        raise ManifestError(where, err.line, err.message) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        raise ManifestError(where, line, f"not valid YAML: {err.problem or err}") from None
    except yaml.YAMLError as err:
        raise ManifestError(where, 0, f"not valid YAML: {err}") from None
    if document is None:
        document = Node()
    if not isinstance(document, Node):
        raise ManifestError(where, 1, "the file must hold a mapping (project:, packages:)")
    return document


_WHOLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_BRACED = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Substitution:
    """`$NAME` / `${NAME}` in string values, from `env` (the process environment)."""

    def __init__(self, where: str, env: Mapping[str, str] | None = None) -> None:
        self.where = where
        self.env = os.environ if env is None else env
        self.context = ""  # the entity being read, named in refusals

    def _lookup(self, name: str, line: int) -> str:
        if name not in self.env:
            prefix = f"{self.context}: " if self.context else ""
            raise ManifestError(
                self.where, line, f"{prefix}environment variable '{name}' is not set"
            )
        return self.env[name]

    def text(self, value: str, line: int) -> str:
        whole = _WHOLE.fullmatch(value)
        if whole:
            return self._lookup(whole.group(1), line)

        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # `$${NAME}` stays `${NAME}`
                return "${" + match.group(2) + "}"
            return self._lookup(match.group(2), line)

        return _BRACED.sub(replace, value)

    def value(self, value: Any, line: int) -> Any:
        """`value` with every string in it substituted (JSON-like values, deep)."""
        if isinstance(value, str):
            return self.text(value, line)
        if isinstance(value, Node):
            return {k: self.value(v, value.line_of(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, getattr(value, "line", line)) for v in value]
        if isinstance(value, datetime.date):  # YAML 1.1 reads 2024-01-01 as a date
            return value.isoformat()
        return value
