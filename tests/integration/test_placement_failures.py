"""What a caller and an operator see when an activation cannot be placed on an invoker.

No invoker, or a queue that refuses the message: a 503 in OpenWhisk's words, and for the
queue a line in the log. Anything else is a bug of the platform: a 500 whose cause is logged
with its traceback, never passed off as "unavailable" (in-process over ASGI)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import httpx
import pytest

from pywhisk.common.config import Settings
from pywhisk.common.messages import ActivationMessage
from pywhisk.common.queue.base import QueueError
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.api.app import create_app
from pywhisk.controller.core.balancer import StaticBalancer
from pywhisk.controller.core.bootstrap import ensure_namespace
from pywhisk.controller.core.services import Services
from pywhisk.controller.core.sharding import NoInvokers

CODE = {"kind": "python:3.11", "code": "def main(args):\n    return args\n"}
UNAVAILABLE = (
    "The server is currently unavailable (because it is overloaded or down for maintenance)."
)


class FailingBalancer(StaticBalancer):
    def __init__(self, queue: MemoryQueue, error: BaseException) -> None:
        super().__init__(queue, (0,))
        self.error = error

    async def publish(
        self, message: ActivationMessage, memory: int = 256, blackbox: bool = False
    ) -> int:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "logged"),
    [
        (NoInvokers(), 503, None),
        (QueueError("broker away"), 503, "broker away"),
        (RuntimeError("a bug in placement"), 500, "a bug in placement"),
    ],
)
async def test_a_failed_placement_answers_for_what_failed(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    error: BaseException,
    status: int,
    logged: str | None,
) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    queue = MemoryQueue()
    services = Services(
        Settings(data_dir=tmp_path), store, queue, use_balancer=FailingBalancer(queue, error)
    )
    guest = await ensure_namespace(store, "guest")
    auth = {"Authorization": "Basic " + base64.b64encode(guest.auth.encode()).decode()}
    app = create_app(services, manage_services=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://c", headers=auth) as c:
            put = await c.put("/api/v1/namespaces/_/actions/echo", json={"exec": CODE})
            assert put.status_code == 200
            with caplog.at_level(logging.WARNING):
                answer = await c.post("/api/v1/namespaces/_/actions/echo?blocking=true")
        assert answer.status_code == status
        body = answer.json()
        assert set(body) == {"error", "code"}
        if status == 503:
            assert body["error"] == UNAVAILABLE
        if logged is None:
            assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        else:
            assert logged in caplog.text  # the message, or the traceback of a bug
        # Nothing is left waiting for an answer that will never come.
        assert services.tracker.total_in_flight == 0
    finally:
        await store.close()
