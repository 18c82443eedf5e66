"""Fast JSON in one place: orjson for bytes on the wire, with stdlib-compatible helpers."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def dumps_str(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


def size(value: Any) -> int:
    """Serialized length in bytes: what OW compares against its 1 MB limits."""
    return len(orjson.dumps(value))
