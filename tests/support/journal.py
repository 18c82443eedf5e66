"""The accepted-activations journal as its tests see it: the activation message a controller
accepts (non-blocking, for guest/hello) and the journal's rows as another process reading the
SQLite file sees them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from pywhisk.common.messages import ActivationMessage, User


def message(aid: str, received: int | None = None) -> ActivationMessage:
    return ActivationMessage(
        transid="t",
        activation_id=aid,
        action="guest/hello",
        revision="1",
        version="0.0.1",
        user=User(namespace="guest", subject="guest", auth="u:k"),
        controller=0,
        blocking=False,
        content={"n": 1},
        received=int(time.time() * 1000) if received is None else received,
    )


def rows(path: Path) -> dict[str, int]:
    """What another process reading the file sees: activation id -> stage."""
    with sqlite3.connect(path) as other:
        return dict(other.execute("SELECT id, stage FROM journal").fetchall())
