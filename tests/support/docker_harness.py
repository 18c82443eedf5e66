"""The real Invoker over Docker containers, as the Docker suites drive it: a SQLite store, an
in-memory queue and `docker://`, with an installation id of its own so that a test's check for
containers left behind counts only this harness's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pywhisk.common.config import Settings
from pywhisk.common.entities.action import Action, Exec
from pywhisk.common.messages import ActivationMessage, invoker_topic
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.invoker.containers.base import factory_from_url
from pywhisk.invoker.proxy import ContainerProxy
from pywhisk.invoker.service import Invoker
from tests.support.docker import TEST_INVOKER_ID, containers, runtime_images
from tests.support.invoker import Harness
from tests.support.invoker import close as close_harness

INSTALLATION = "pywhisk-test"
# What these invokers made: other test runs on the engine use invoker id 77 too.
MINE = f"pywhisk.installation={INSTALLATION}"


class DockerHarness(Harness):
    async def send(self, msg: ActivationMessage) -> None:
        await self.queue.send(invoker_topic(TEST_INVOKER_ID), msg.to_bytes())

    async def put_blackbox(self, name: str, image: str, code: str | None = None) -> str:
        action = Action(namespace="guest", name=name, exec=Exec(kind="blackbox", image=image))
        if code is not None:
            action = action.model_copy(
                update={"exec": action.exec.model_copy(update={"code": code})}
            )
        doc_id = action.doc_id
        self.revisions[doc_id] = await self.store.entities.put(
            doc_id, {**action.to_json(), "entityType": "action"}, None
        )
        return doc_id

    def proxies(self, doc_id: str) -> list[ContainerProxy]:
        return [p for p in self.invoker.pool.entries if p.key.action == doc_id]


async def make(
    tmp_path: Path, prewarm: bool = False, images: bool = True, **settings: Any
) -> DockerHarness:
    if images:
        await asyncio.to_thread(runtime_images)
    config = Settings(
        data_dir=tmp_path, invoker_id=TEST_INVOKER_ID, installation_id=INSTALLATION, **settings
    )
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    queue = MemoryQueue()
    await queue.open()
    completions = await queue.consumer("completed0", "test")
    factory = factory_from_url("docker://", config)
    invoker = Invoker(config, store, queue, factory, TEST_INVOKER_ID, prewarm=prewarm)
    try:
        await invoker.start()
    except BaseException:
        await completions.close()
        await queue.close()
        await store.close()
        raise
    return DockerHarness(store, queue, invoker, completions)


async def close(h: Harness) -> None:
    await close_harness(h)
    assert await asyncio.to_thread(containers, MINE) == [], "containers left behind"
