"""An invoker with its real parts, for the tests that drive it through its queue: a SqliteStore
(temporary file), a MemoryQueue, process containers (or another factory) running the real
action runtime. `Harness` puts action docs in the store, sends ActivationMessages on the
invoker's topic and reads its completions and records.

`root` is a fixture: a module that uses `make_harness` imports it (and names it in
`__all__`, so that the import is not taken for an unused one).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities.action import Action, Exec
from pywhisk.common.entities.limits import ActionLimits
from pywhisk.common.entities.params import KeyValue
from pywhisk.common.ids import new_activation_id
from pywhisk.common.messages import ActivationMessage, CompletionMessage, User
from pywhisk.common.queue.base import Consumer
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.invoker.containers.base import factory_from_url
from pywhisk.invoker.proxy import State
from pywhisk.invoker.service import Invoker
from tests.support.polling import wait_until_async

USER = User(namespace="alice", subject="alice", auth="uuid-1:key-1")


def annotation(record: dict[str, Any], key: str, default: Any = None) -> Any:
    for a in record["annotations"]:
        if a["key"] == key:
            return a["value"]
    return default


@dataclass
class Harness:
    store: SqliteStore
    queue: MemoryQueue
    invoker: Invoker
    completions: Consumer
    revisions: dict[str, str] = field(default_factory=dict)

    async def put_action(
        self,
        name: str,
        code: str,
        kind: str = "python:3.11",
        namespace: str = "guest",
        limits: ActionLimits | None = None,
        annotations: tuple[KeyValue, ...] = (),
        parameters: tuple[KeyValue, ...] = (),
    ) -> str:
        action = Action(
            namespace=namespace,
            name=name,
            exec=Exec(kind=kind, code=code),
            limits=limits or ActionLimits(),
            annotations=annotations,
            parameters=parameters,
        )
        doc_id = action.doc_id
        found = await self.store.entities.get(doc_id)
        rev = found[1] if found else None
        self.revisions[doc_id] = await self.store.entities.put(
            doc_id, {**action.to_json(), "entityType": "action"}, rev
        )
        return doc_id

    def message(
        self, doc_id: str, content: Any = None, blocking: bool = True, **extra: Any
    ) -> ActivationMessage:
        fields: dict[str, Any] = {
            "transid": "tid-" + new_activation_id()[:8],
            "activation_id": new_activation_id(),
            "action": doc_id,
            "revision": self.revisions.get(doc_id, "1"),
            "version": "0.0.1",
            "user": USER,
            "controller": 0,
            "blocking": blocking,
            "content": {} if content is None else content,
            "received": time.time_ns() // 1_000_000,
            **extra,
        }
        return ActivationMessage(**fields)

    async def send(self, msg: ActivationMessage) -> None:
        await self.queue.send("invoker0", msg.to_bytes())

    async def completion(self) -> CompletionMessage:
        async with asyncio.timeout(30):
            async for payload in self.completions:
                return CompletionMessage.from_bytes(payload)
        raise AssertionError("completion topic closed")

    async def invoke(self, doc_id: str, content: Any = None, **extra: Any) -> dict[str, Any]:
        """Blocking invoke: the activation as the completion carries it."""
        msg = self.message(doc_id, content, **extra)
        await self.send(msg)
        done = await self.completion()
        assert done.activation_id == msg.activation_id and done.transid == msg.transid
        assert done.activation is not None
        return done.activation

    async def record(self, activation_id: str) -> dict[str, Any]:
        """The stored record, once the invoker has written it."""
        doc = await wait_until_async(
            lambda: self.store.activations.get(USER.namespace, activation_id),
            f"the record of {activation_id}",
            interval=0.02,
        )
        assert doc is not None
        return doc

    def live_containers(self) -> list[Any]:
        return [p for p in self.invoker.pool.entries if p.state is not State.REMOVED]


@pytest.fixture
def root() -> Iterator[Path]:
    """A containers' root that `nobody` (the sandboxed actions' user) can reach."""
    path = Path(tempfile.mkdtemp(prefix="pywhisk-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def make_harness(
    tmp_path: Path,
    root: Path,
    containers_url: str | None = None,
    prewarm: bool = False,
    claims: bool = False,
    **settings: Any,
) -> Harness:
    config = Settings(data_dir=tmp_path, **settings)
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    queue = MemoryQueue()
    await queue.open()
    completions = await queue.consumer("completed0", "test")
    factory = factory_from_url(containers_url or f"process://{root}", config)
    invoker = Invoker(
        config, store, queue, factory, 0, prewarm=prewarm, claims=store.claims if claims else None
    )
    await invoker.start()
    return Harness(store, queue, invoker, completions)


async def close(h: Harness) -> None:
    await h.invoker.stop()
    await h.completions.close()
    await h.queue.close()
    await h.store.close()


HELLO = "def main(args):\n    print('hello', args.get('name'))\n    return {'greeting': 'Hello ' + args.get('name', 'stranger')}\n"
