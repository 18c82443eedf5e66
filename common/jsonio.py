"""Fast JSON in one place: orjson for bytes on the wire, with stdlib-compatible helpers.

Request bodies are parsed with `loads_bounded`, which refuses JSON nested deeper than
`MAX_DEPTH` levels. orjson itself parses up to 1024 levels but serializes at most 254, so
a body nested 255-1024 deep used to be accepted and then fail wherever the platform wrote
it out (the activation message, the trigger's record): a 503, or a record never written.
The platform wraps a payload in envelopes of its own (message, record, sequence and
trigger documents: a handful of levels), so 100 leaves ample room under orjson's 254 while
being far deeper than any document a real client sends (JSON APIs rarely exceed 10-20).
"""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError

MAX_DEPTH = 100
_SERIALIZABLE_DEPTH = 254  # orjson.dumps raises "Recursion limit reached" past this


class TooDeep(ValueError):
    """A JSON document nested deeper than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def dumps_str(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


def loads_bounded(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`loads`, raising TooDeep when the document nests more than `max_depth` containers."""
    value = orjson.loads(data)
    if exceeds_depth(data, value, max_depth):
        raise TooDeep(max_depth)
    return value


def exceeds_depth(data: bytes, value: Any, max_depth: int) -> bool:
    """Whether `value` (parsed from `data`) nests more than `max_depth` lists and objects.

    Nesting can be no deeper than the number of `[` and `{` bytes, so almost every body is
    settled by two C-speed counts (0.7 ms for 1 MB). Otherwise orjson measures it: wrapped
    in `254 - max_depth` lists, the value serializes iff it is at most `max_depth` deep.
    Measured on a 1 MB body of 30,000 small objects: 11 ms, against 320 ms for a Python walk.
    """
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    wrapped = value
    for _ in range(_SERIALIZABLE_DEPTH - max_depth):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except orjson.JSONEncodeError:
        return True
    return False


def size(value: Any) -> int:
    """Serialized length in bytes: what OW compares against its 1 MB limits."""
    return len(orjson.dumps(value))
