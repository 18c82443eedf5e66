"""The controller's REST API in process, over httpx's ASGITransport (no socket, no invoker):
a SQLite store in a temporary folder, the in-memory queue, and the namespaces `guest` (the
client's) and `other`. For the tests of the API's entities, shapes and refusals.

`env` is a fixture: a module that uses it imports it and names it in `__all__`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities import Identity
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.api.app import create_app
from pywhisk.controller.core.bootstrap import ensure_namespace
from pywhisk.controller.core.services import Services

# An action's `exec`: Python that answers with its parameters.
CODE = {"kind": "python:3.11", "code": "def main(args):\n    return args\n"}


def basic(identity: Identity) -> dict[str, str]:
    """The Authorization header of `identity`'s key."""
    token = base64.b64encode(identity.auth.encode()).decode()
    return {"Authorization": f"Basic {token}"}


Env = tuple[httpx.AsyncClient, Identity, Identity]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    """(a client authenticated as `guest`, guest, other)."""
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    queue = MemoryQueue()
    services = Services(Settings(data_dir=tmp_path), store, queue)
    await services.start()
    guest = await ensure_namespace(store, "guest")
    other = await ensure_namespace(store, "other")
    app = create_app(services, manage_services=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=basic(guest)
    ) as client:
        yield client, guest, other
    await services.stop()
    await store.close()
