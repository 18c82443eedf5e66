"""Typed inputs (wskdeploy's `inputs:`) and runtime names, checked against what the server runs.

An input is either a plain value (`name: Rob`, `limit: 10`, `cfg: {a: 1}`) or a typed one:
`{type: integer, value: 10, description: …}` with `default` standing in for a missing
`value`, and the type's zero value (``""``, 0, 0.0, false, {}) when neither is given, as
wskdeploy does. A mapping counts as typed when all its keys are typed-input keys and it has
a `type`, `value` or `default`. A string that came from the environment is converted to
the declared type (`port: {type: integer, value: $PGPORT}`); any other mismatch is refused.

Runtimes are resolved the way wskdeploy's table reads: a family alone (`python`) or
`family:default` is the server's default kind for it, `python@3.11` is `python:3.11`, a
major version (`python:3`) is the newest kind of that major the server lists; no runtime
at all is inferred from the file's extension.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .source import Node, Substitution

TYPED_KEYS = {"type", "value", "default", "description", "required", "status", "schema"}
ZERO: dict[str, Any] = {"string": "", "integer": 0, "float": 0.0, "boolean": False, "json": {}}
EXTENSIONS = {".py": "python", ".php": "php", ".js": "nodejs"}


class InputError(ValueError):
    """What is wrong with one input or runtime; the caller adds the file and the entity
    (and the line, when `line` is 0)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _typed(value: Any) -> bool:
    return (
        isinstance(value, Node)
        and bool(value)
        and set(value) <= TYPED_KEYS
        and bool({"type", "value", "default"} & set(value))
    )


def _convert(name: str, kind: str, value: Any, from_env: bool) -> Any:
    if kind == "json":
        return value
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            raise InputError(f"input '{name}': {value!r} is not a string")
        return str(value)
    if from_env and isinstance(value, str):
        try:
            if kind == "integer":
                return int(value)
            if kind == "float":
                return float(value)
            if value.lower() in ("true", "false"):
                return value.lower() == "true"
        except ValueError:
            pass
        raise InputError(
            f"input '{name}': {value!r} is not a{'n' if kind[0] == 'i' else ''} {kind}"
        )
    checks = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }
    if not checks[kind]:
        raise InputError(
            f"input '{name}': {value!r} is not a{'n' if kind[0] == 'i' else ''} {kind}"
        )
    return float(value) if kind == "float" else value


def resolve_inputs(inputs: Any, subst: Substitution, line: int) -> list[dict[str, Any]]:
    """`inputs:` as OpenWhisk parameters `[{key, value}]`, in the manifest's order.

    Raises InputError with the line of the input at fault."""
    if inputs is None:
        return []
    if not isinstance(inputs, Node):
        raise InputError("inputs must be a mapping of names to values", line)
    params = []
    for name, given in inputs.items():
        at = inputs.line_of(name)
        if not _typed(given):
            params.append({"key": name, "value": subst.value(given, at)})
            continue
        kind = str(given.get("type", "json" if isinstance(given.get("value"), dict) else ""))
        if not kind:
            raw = given.get("value", given.get("default"))
            kind = (
                "boolean"
                if isinstance(raw, bool)
                else "integer"
                if isinstance(raw, int)
                else "float"
                if isinstance(raw, float)
                else "string"
                if isinstance(raw, str)
                else "json"
            )
        if kind not in ZERO:
            raise InputError(
                f"input '{name}': type '{kind}' is not supported "
                "(string, integer, float, boolean, json)",
                at,
            )
        key = "value" if "value" in given else "default" if "default" in given else None
        if key is None or given[key] is None:
            if given.get("required") is True:
                raise InputError(f"input '{name}' is required and has no value", at)
            params.append({"key": name, "value": ZERO[kind]})
            continue
        raw = given[key]
        value = subst.value(raw, given.line_of(key))
        from_env = isinstance(raw, str) and raw != value
        try:
            params.append({"key": name, "value": _convert(name, kind, value, from_env)})
        except InputError as err:
            raise InputError(err.message, given.line_of(key)) from None
    return params


def resolve_runtime(given: str | None, function: str | None, runtimes: Mapping[str, Any]) -> str:
    """The kind to send for `runtime:` (or the function's extension when it is absent).

    `runtimes` is the server's `/` listing: family -> [{kind, default}]."""
    families: dict[str, list[dict[str, Any]]] = {f: list(e) for f, e in runtimes.items()}
    kinds = sorted(str(e["kind"]) for entries in families.values() for e in entries)
    if not given:
        ext = "." + function.rsplit(".", 1)[-1] if function and "." in function else ""
        family = EXTENSIONS.get(ext)
        if family is None or family not in families:
            raise InputError(
                "no runtime given and none known for the file's extension "
                f"'{ext}' (give runtime: one of {', '.join(kinds)})"
            )
        given = family
    wanted = given.replace("@", ":", 1)
    family, _, version = wanted.partition(":")
    entries = families.get(family, [])
    if not entries and family == "node":
        entries = families.get("nodejs", [])
    if entries and version in ("", "default"):
        default = [e for e in entries if e.get("default")] or entries
        return str(default[0]["kind"])
    matching = sorted(
        (
            str(e["kind"])
            for e in entries
            if str(e["kind"]) == wanted or str(e["kind"]).startswith(wanted + ".")
        ),
        reverse=True,
    )
    if not matching:
        raise InputError(f"runtime '{given}' is not supported (supported: {', '.join(kinds)})")
    return matching[0]
