"""What SQLite refuses reaches callers as the store family's own error, `StoreError`.

Callers of a store catch `StoreError` (a read they can answer without, a write to retry), never
a backend's exception: the CouchDB store raises its `CouchError`, and the SQLite classes are
wrapped by `store_errors`, so that a locked or damaged database file is not mistaken for a
bug of the platform (or a bug for a store failure: nothing else is translated).
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pywhisk.common.store.base import StoreError

C = TypeVar("C", bound=type)


def store_errors(cls: C) -> C:
    """Every public coroutine method of `cls` raises StoreError for sqlite3.Error."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _translating(member))
    return cls


def _translating(
    method: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite: {exc}") from exc

    return translated
