"""Documents as a store keeps them, built in one line for the store's tests: an entity's and
an activation record's."""

from __future__ import annotations

from typing import Any


def entity(
    namespace: str, name: str, kind: str = "action", updated: int = 1, **extra: Any
) -> dict[str, Any]:
    """An entity document (`kind`: its entityType), with `extra` fields."""
    return {"namespace": namespace, "name": name, "entityType": kind, "updated": updated, **extra}


def activation(
    namespace: str, aid: str, start: int, path: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A successful activation record that ran 5 ms from `start`; `path` (namespace/name,
    or namespace/package/name) is its path annotation and names it."""
    annotations = [{"key": "path", "value": path}] if path else []
    return {
        "namespace": namespace,
        "name": (path or "x").rsplit("/", 1)[-1],
        "activationId": aid,
        "start": start,
        "end": start + 5,
        "response": {"status": "success", "statusCode": 0, "success": True, "result": {}},
        "logs": [],
        "annotations": annotations,
        **extra,
    }
