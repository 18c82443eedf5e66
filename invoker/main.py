"""`pywhisk invoker --id N`: one invoker process of the cluster preset (docs/openwhisk-compatibility.md §8).

Store + queue + container factory + discovery: it consumes `invoker{N}`, pings `health`
every second, and keeps its discovery registration passing. Imports nothing of the
controller's (docs/architecture.md, "Folders").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.discovery.base import TTL, Discovery, discovery_from_url
from pywhisk.common.metrics import create_metrics
from pywhisk.common.queue.base import Queue, queue_from_url
from pywhisk.common.store.base import store_from_url
from pywhisk.invoker.containers.base import factory_from_url
from pywhisk.invoker.health import Pinger
from pywhisk.invoker.metrics_server import MetricsServer
from pywhisk.invoker.service import Invoker

log = logging.getLogger("pywhisk.invoker")


async def _keep_registered(discovery: Discovery, settings: Settings) -> None:
    registered = False
    while True:
        try:
            if not registered:
                await discovery.register(settings.invoker_id, settings.user_memory, TTL)
                registered = True
            else:
                await discovery.heartbeat(settings.invoker_id)
        except Exception as exc:  # Consul away: pings still carry health; retry
            log.warning("invoker%d: discovery: %s", settings.invoker_id, exc)
            registered = False
        await asyncio.sleep(TTL / 3)


async def serve(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGINT/SIGTERM, then deregister, drain and close."""
    store = store_from_url(settings.effective_store_url)
    queue = queue_from_url(settings.queue_url)
    discovery = discovery_from_url(settings.discovery_url)
    factory = factory_from_url(settings.containers_url, settings)
    metrics = create_metrics()
    exporter = MetricsServer(metrics, store, settings.metrics_token)
    async with contextlib.AsyncExitStack() as opened:  # closes what opened if a later step fails
        if settings.metrics_port:  # first: a port in use stops the start before any work
            await exporter.start(settings.host, settings.metrics_port)
            opened.push_async_callback(exporter.stop)
        await store.open()
        opened.push_async_callback(store.close)
        await queue.open()
        opened.push_async_callback(queue.close)
        await discovery.open()
        opened.push_async_callback(discovery.close)
        invoker = Invoker(
            settings,
            store,
            queue,
            factory,
            settings.invoker_id,
            prewarm=settings.prewarm,
            claims=store.claims,  # a message may reach two invokers: each run is claimed
            metrics=metrics,
        )
        await _serve(settings, queue, discovery, invoker, on_ready)


async def _serve(
    settings: Settings,
    queue: Queue,
    discovery: Discovery,
    invoker: Invoker,
    on_ready: Callable[[str], None] | None,
) -> None:
    pinger = Pinger(
        queue, settings.invoker_id, settings.user_memory, stored_until=invoker.stored_until
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
    registration: asyncio.Task[None] | None = None
    try:
        await invoker.start()
        await pinger.start()
        registration = loop.create_task(_keep_registered(discovery, settings))
        if on_ready:
            on_ready(
                f"pywhisk invoker{settings.invoker_id} is ready "
                f"({settings.user_memory} MB, queue {settings.queue_url})"
            )
        await stopping.wait()
    finally:
        if registration is not None:
            registration.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await registration
        with contextlib.suppress(Exception):
            await discovery.deregister(settings.invoker_id)
        await pinger.stop()  # says "disabled" first, so controllers stop sending here
        await invoker.stop()


def run(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    eventloop.run(serve(settings, on_ready))
