"""Entities printed in Go struct form, as wsk prints them.

wsk decodes actions and activations into Go structs before printing, so the printed JSON
has the struct's field order, its zero values and ``omitempty`` rules, and only the
struct's fields. Results, and the activation ``invoke`` prints, are decoded into plain maps
instead, so their keys print sorted (cli.jsontext does that for plain dicts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pywhisk.cli.jsontext import GoStruct

Projector = Callable[[Any], Any]


def _string(value: Any) -> Any:
    return "" if value is None else value


def _int(value: Any) -> Any:
    return 0 if value is None else value


def _bool(value: Any) -> Any:
    return False if value is None else value


def _same(value: Any) -> Any:
    return value


def _same_list(value: Any) -> Any:
    return value


def _same_map(value: Any) -> Any:
    return value


def _key_values(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append(GoStruct(key=_string(item.get("key")), value=item.get("value")))
        else:
            out.append(item)
    return out


def _struct(fields: tuple[tuple[str, Projector, bool], ...]) -> Projector:
    """A projector for a Go struct: (json name, field projector, omitempty) in order."""

    def project(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = GoStruct()
        for name, field, omitempty in fields:
            raw = value.get(name)
            if omitempty and _is_empty(field, raw):
                continue
            out[name] = field(raw)
        return out

    return project


def _is_empty(field: Projector, raw: Any) -> bool:
    """Go's omitempty: nil pointers/interfaces, "" strings, 0 numbers, empty slices."""
    if raw is None:
        return True
    if field is _string:
        return raw == ""
    if field is _int:
        return raw == 0 and not isinstance(raw, bool)
    if field in (_key_values, _same_list, _actions):
        return isinstance(raw, list) and not raw
    if field is _same_map:
        return isinstance(raw, dict) and not raw
    return False


_pointer = _same  # pointers print their value when set, and are omitted when nil

_LIMITS = _struct(
    (
        ("timeout", _pointer, True),
        ("memory", _pointer, True),
        ("logs", _pointer, True),
        ("concurrency", _pointer, True),
    )
)

_EXEC = _struct(
    (
        ("kind", _string, True),
        ("code", _pointer, True),
        ("image", _string, True),
        ("init", _string, True),
        ("main", _string, True),
        ("components", _same_list, True),
        ("binary", _pointer, True),
    )
)

action_struct: Projector = _struct(
    (
        ("namespace", _string, True),
        ("name", _string, True),
        ("version", _string, True),
        ("exec", _EXEC, True),
        ("annotations", _key_values, True),
        ("delAnnotations", _same_list, True),
        ("parameters", _key_values, True),
        ("limits", _LIMITS, True),
        ("error", _string, True),
        ("code", _int, True),
        ("publish", _pointer, True),
        ("updated", _int, True),
        ("env", _key_values, True),
    )
)

ACTION_FIELDS = (
    "Namespace Name Version Exec Annotations DelAnnotations Parameters Limits Error Code "
    "Publish Updated Env"
).split()

_RESPONSE = _struct(
    (
        ("status", _string, False),
        ("statusCode", _int, False),
        ("success", _bool, False),
        ("result", _same, True),
    )
)

_BINDING = _struct((("namespace", _string, True), ("name", _string, True)))


def _actions(value: Any) -> Any:
    """A package's ``actions``/``feeds``: Go ``[]Action``."""
    return [action_struct(item) for item in value] if isinstance(value, list) else value


package_struct: Projector = _struct(
    (
        ("namespace", _string, True),
        ("name", _string, True),
        ("version", _string, True),
        ("publish", _pointer, True),
        ("annotations", _key_values, True),
        ("parameters", _key_values, True),
        ("binding", _BINDING, True),
        ("actions", _actions, True),
        ("feeds", _actions, True),
        ("updated", _int, True),
    )
)

PACKAGE_FIELDS = (
    "Namespace Name Version Publish Annotations Parameters Binding Actions Feeds Updated".split()
)

trigger_struct: Projector = _struct(
    (
        ("namespace", _string, True),
        ("name", _string, False),  # wsk's tag says `omityempty`: never omitted
        ("version", _string, True),
        ("activationId", _string, True),
        ("annotations", _key_values, True),
        ("parameters", _key_values, True),
        ("limits", _LIMITS, True),
        ("publish", _pointer, True),
        ("rules", _same_map, True),
        ("updated", _int, True),
    )
)

TRIGGER_FIELDS = (
    "Namespace Name Version ActivationId Annotations Parameters Limits Publish Rules Updated"
).split()

rule_struct: Projector = _struct(
    (
        ("namespace", _string, True),
        ("name", _string, True),
        ("version", _string, True),
        ("annotations", _key_values, True),
        ("status", _string, False),
        ("trigger", _same, False),
        ("action", _same, False),
        ("publish", _pointer, True),
        ("updated", _int, True),
    )
)

RULE_FIELDS = "Namespace Name Version Annotations Status Trigger Action Publish Updated".split()

_ACTIVATION = _struct(
    (
        ("namespace", _string, False),
        ("name", _string, False),
        ("version", _string, False),
        ("subject", _string, False),
        ("activationId", _string, False),
        ("cause", _string, True),
        ("start", _int, False),
        ("end", _int, False),
        ("duration", _int, False),
        ("statusCode", _int, False),
        ("response", _RESPONSE, False),
        ("logs", _same_list, False),
        ("annotations", _key_values, False),
        ("publish", _pointer, True),
    )
)

ACTIVATION_FIELDS = (
    "Namespace Name Version Subject ActivationID Cause Start End Duration StatusCode "
    "Response Logs Annotations Publish"
).split()

STATUS_CODES = {
    "application error": 1,
    "action developer error": 2,
    "whisk internal error": 3,
}
STATUS_NAMES = ["success", "application error", "developer error", "internal error"]


def activation_struct(activation: Any) -> Any:
    value = dict(activation) if isinstance(activation, dict) else activation
    if isinstance(value, dict) and not isinstance(value.get("response"), dict):
        value["response"] = {}
    return _ACTIVATION(value)


def activation_get_struct(activation: Any) -> Any:
    """``activation get`` also derives the top-level statusCode from response.status."""
    out = activation_struct(activation)
    if isinstance(out, dict):
        response = out["response"]
        status = response.get("status") if isinstance(response, dict) else None
        out["statusCode"] = STATUS_CODES.get(str(status), 0)
    return out


def field_key(fields: Iterable[str], wanted: str) -> str | None:
    """Case-insensitive match of a field filter to a Go field name; returns the JSON key."""
    for name in fields:
        if name.lower() == wanted.lower():
            return "activationId" if name == "ActivationID" else name[0].lower() + name[1:]
    return None


def annotation(annotations: Any, key: str) -> Any:
    if isinstance(annotations, list):
        for item in annotations:
            if isinstance(item, dict) and item.get("key") == key:
                return item.get("value")
    return None
