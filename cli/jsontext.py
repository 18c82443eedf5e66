"""JSON read and written the way openwhisk-cli does it, so output matches byte for byte.

wsk decodes responses with Go's ``UseNumber`` (numbers print back as written) and prints
with ``json.Indent(..., "    ")``: four-space indent, ``"key": value``, map keys sorted,
struct fields in declaration order, no HTML escaping, and a trailing newline. Go rejects
``NaN``/``Infinity``, which Python's json module would accept.
"""

from __future__ import annotations

import json
from typing import Any

INDENT = "    "


class GoNumber(float):
    """A JSON number with a fraction or exponent that prints back exactly as received."""

    __slots__ = ("literal",)
    literal: str

    def __new__(cls, literal: str) -> GoNumber:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


class GoStruct(dict[str, Any]):
    """A JSON object whose keys print in insertion order (a Go struct, not a Go map)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


_DECODER = json.JSONDecoder(parse_float=GoNumber, parse_constant=_reject_constant)


def loads_go(text: str | bytes) -> Any:
    """Parse one complete JSON document with Go's rules (no NaN/Infinity)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return _DECODER.decode(text)


def loads_first(text: str) -> Any:
    """Parse the first JSON value in ``text`` and ignore what follows (``json.Decoder``)."""
    value, _ = _DECODER.raw_decode(text.lstrip(" \t\r\n"))
    return value


def _string(value: str) -> str:
    # Go escapes the JavaScript line terminators even with HTML escaping off.
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, GoNumber):
        return value.literal
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, str):
        return _string(value)
    return _string(str(value))


def _write(value: Any, level: int, out: list[str], indent: str) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        keys = list(value) if isinstance(value, GoStruct) else sorted(value)
        out.append("{\n")
        for position, key in enumerate(keys):
            out.append(f"{indent * (level + 1)}{_string(str(key))}: ")
            _write(value[key], level + 1, out, indent)
            out.append(",\n" if position < len(keys) - 1 else "\n")
        out.append(f"{indent * level}}}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[\n")
        for position, item in enumerate(value):
            out.append(indent * (level + 1))
            _write(item, level + 1, out, indent)
            out.append(",\n" if position < len(value) - 1 else "\n")
        out.append(f"{indent * level}]")
    else:
        out.append(_scalar(value))


def go_json(value: Any, indent: str = INDENT) -> str:
    """wsk's ``printJSON``: indented JSON followed by a newline."""
    out: list[str] = []
    _write(value, 0, out, indent)
    out.append("\n")
    return "".join(out)
