"""`pywhisk controller`: one controller process of the cluster preset (docs/openwhisk-compatibility.md §8).

Store + queue + discovery from the settings, no invoker: activations go to the invokers
that ping `health` (and that discovery lists, when it restricts), placed by the
ShardingBalancer; completions come back on `completed{controller_id}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable

from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.discovery.base import Discovery, discovery_from_url
from pywhisk.common.queue.base import Queue, queue_from_url
from pywhisk.common.runtimes import default_manifest
from pywhisk.common.startup import listen
from pywhisk.common.store.base import Store, store_from_url
from pywhisk.controller.api.app import create_app
from pywhisk.controller.api.serving import Server, server_config
from pywhisk.controller.core.balancer import ShardingBalancer
from pywhisk.controller.core.bootstrap import GUEST, SYSTEM, ensure_namespace
from pywhisk.controller.core.catalog.install import install as install_catalog
from pywhisk.controller.core.services import Services


async def serve(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    store = store_from_url(settings.effective_store_url)
    queue = queue_from_url(settings.queue_url)
    discovery = discovery_from_url(settings.discovery_url)
    async with contextlib.AsyncExitStack() as opened:  # closes what opened if a later step fails
        sock = listen(settings.host, settings.port)
        opened.callback(sock.close)
        await store.open()
        opened.push_async_callback(store.close)
        await queue.open()
        opened.push_async_callback(queue.close)
        await _serve(settings, store, queue, discovery, sock, on_ready)


async def _serve(
    settings: Settings,
    store: Store,
    queue: Queue,
    discovery: Discovery,
    sock: socket.socket,
    on_ready: Callable[[str], None] | None,
) -> None:
    await ensure_namespace(store, GUEST)
    await ensure_namespace(store, SYSTEM)
    await install_catalog(store, default_manifest(), settings.limit_ranges)
    balancer = ShardingBalancer(
        queue,
        settings.controller_id,
        controllers=settings.controller_count,
        min_memory=settings.min_action_memory,
        discovery=discovery,
    )
    services = Services(settings, store, queue, use_balancer=balancer)
    app = create_app(services, manage_services=False)
    server = Server(server_config(app, settings))
    loop = asyncio.get_running_loop()

    def shut_down(sig: int) -> None:
        server.handle_exit(sig, None)
        # Blocking callers still waiting (e.g. on an invoker that died) get their 202 with
        # the activation id now, instead of holding the shutdown until their wait ends.
        services.stop_waiting()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, shut_down, sig)
    serving: asyncio.Task[None] | None = None
    try:
        await services.start()
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        if server.started and on_ready:
            on_ready(
                f"pywhisk controller{settings.controller_id} is ready at "
                f"{settings.effective_api_host} (queue {settings.queue_url}, "
                f"discovery {settings.discovery_url})"
            )
        await serving
    finally:
        if serving is not None and not serving.done():
            server.should_exit = True
            await asyncio.wait({serving}, timeout=5)
        await services.stop()


def run(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    eventloop.run(serve(settings, on_ready))
