"""Parameters and annotations: JSON arrays of `{key, value[, init]}` (docs/openwhisk-compatibility.md §2.1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict


class KeyValue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    value: Any = None
    # Parameters marked init are handed to /init as environment, not to /run (§4.2).
    init: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "value": self.value}
        if self.init:
            out["init"] = True
        return out


Params = tuple[KeyValue, ...]


def to_dict(params: Iterable[KeyValue]) -> dict[str, Any]:
    return {p.key: p.value for p in params}


def to_json(params: Iterable[KeyValue]) -> list[dict[str, Any]]:
    return [p.to_json() for p in params]


def get(params: Iterable[KeyValue], key: str, default: Any = None) -> Any:
    for p in params:
        if p.key == key:
            return p.value
    return default


def merge(lower: Iterable[KeyValue], higher: Iterable[KeyValue]) -> Params:
    """Keys of `higher` win; order is lower's keys first, then new ones (OW Parameter.merge)."""
    merged: dict[str, KeyValue] = {p.key: p for p in lower}
    for p in higher:
        merged[p.key] = p
    return tuple(merged.values())


def without(params: Iterable[KeyValue], keys: Iterable[str]) -> Params:
    drop = set(keys)
    return tuple(p for p in params if p.key not in drop)


def put(params: Iterable[KeyValue], key: str, value: Any) -> Params:
    return merge(params, (KeyValue(key=key, value=value),))


def truthy(value: Any) -> bool:
    """OW annotation truthiness: JSON true, non-zero numbers and non-empty strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value != ""
    return value is not None
