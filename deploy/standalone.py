"""The standalone preset: controller and invoker in one process (OW standalone, §8.5).

This is the one place allowed to build both; everything else talks through the store
and the queue, exactly as in the cluster preset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.entities import Identity
from pywhisk.common.metrics import create_metrics
from pywhisk.common.queue.base import queue_from_url
from pywhisk.common.runtimes import default_manifest
from pywhisk.common.startup import listen, prepare_data_dir, store_dir_of
from pywhisk.common.store.base import store_from_url
from pywhisk.controller.api.app import create_app
from pywhisk.controller.api.serving import Server, server_config
from pywhisk.controller.core.bootstrap import (
    GUEST,
    SYSTEM,
    ensure_namespace,
    write_wskprops_if_unset,
    wskprops_path,
)
from pywhisk.controller.core.catalog.install import install as install_catalog
from pywhisk.controller.core.recovery import recover
from pywhisk.controller.core.services import Services

if TYPE_CHECKING:
    from pywhisk.invoker.containers.docker import DockerContainerFactory
    from pywhisk.invoker.service import Invoker

log = logging.getLogger("pywhisk")


def listening_sockets(
    sock: socket.socket, settings: Settings, gateway: str | None
) -> list[socket.socket]:
    """Where the API listens: `sock` (bound to `settings.host` at start). With Docker
    containers, also the gateway address of their network, at the same port: 127.0.0.1 is a
    container's own loopback. Reachable from the host and that network, not beyond, unlike
    listening on every address."""
    if not gateway or settings.host in ("0.0.0.0", "::", ""):
        return [sock]
    from pywhisk.invoker.containers.base import ContainerError

    try:
        extra = socket.create_server((gateway, sock.getsockname()[1]), backlog=2048)
    except OSError as exc:
        raise ContainerError(
            f"cannot listen on the Docker network's gateway {gateway}:{settings.port}: "
            f"{os.strerror(exc.errno) if exc.errno else exc}"
        ) from None
    extra.set_inheritable(True)
    return [sock, extra]


async def serve(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    from pywhisk.invoker.containers.base import factory_from_url
    from pywhisk.invoker.service import Invoker

    # Checked before anything is opened: a failure here costs nothing to undo.
    prepare_data_dir(settings.data_dir)
    store_dir = store_dir_of(settings.effective_store_url)
    if store_dir is not None and store_dir != settings.data_dir:
        prepare_data_dir(store_dir)
    store = store_from_url(settings.effective_store_url)
    queue = queue_from_url(settings.queue_url)
    factory = factory_from_url(settings.containers_url, settings)
    async with contextlib.AsyncExitStack() as opened:  # closes what opened if a later step fails
        sock = listen(settings.host, settings.port)
        opened.callback(sock.close)
        await store.open()
        opened.push_async_callback(store.close)
        await queue.open()
        opened.push_async_callback(queue.close)
        guest = await ensure_namespace(store, GUEST)
        await ensure_namespace(store, SYSTEM)
        shared: DockerContainerFactory | None = None  # actions reach the API on its network
        if factory.scheme == "docker" and not settings.api_host:
            from pywhisk.invoker.containers.docker import DockerContainerFactory

            assert isinstance(factory, DockerContainerFactory)
            shared = factory
            shared.share_api(settings.port)
        journal = store.journal if settings.journal else None
        metrics = create_metrics()  # one process: the invoker counts into the API's /metrics
        services = Services(settings, store, queue, metrics=metrics)
        invoker = Invoker(
            settings,
            store,
            queue,
            factory,
            settings.invoker_id,
            prewarm=settings.prewarm,
            journal=journal,
            metrics=metrics,
            # The action a message names was just read by the controller: taken from its
            # cache rather than read from the store and parsed again.
            parsed=services.entities,
        )
        # The in-process queue forgets on a crash: accepted activations are journaled instead.
        services.journal = journal
        app = create_app(services, manage_services=False)
        server = Server(server_config(app, settings))
        await _serve(settings, server, sock, shared, services, invoker, guest, on_ready)


async def _serve(
    settings: Settings,
    server: Server,
    sock: socket.socket,
    shared: DockerContainerFactory | None,
    services: Services,
    invoker: Invoker,
    guest: Identity,
    on_ready: Callable[[str], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, server.handle_exit, sig, None)
    serving: asyncio.Task[None] | None = None
    try:
        # The invoker first: the in-memory queue drops what is sent before a consumer
        # subscribes, and the feeds (services) fire at once what changed while stopped.
        await invoker.start()
        gateway = shared.gateway if shared is not None else None
        sockets = listening_sockets(sock, settings, gateway)
        # After every check that can refuse the start, so that a refusal stays one line;
        # before the feeds and the recovery, which may run the catalog's actions.
        await install_catalog(services.store, default_manifest(), settings.limit_ranges)
        await services.start()
        if services.journal is not None:
            await recover(services, services.journal)
        props = wskprops_path()
        wrote = write_wskprops_if_unset(props, settings.effective_api_host, guest)
        serving = asyncio.create_task(server.serve(sockets))
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        if server.started:
            message = (
                f"pywhisk standalone is ready at {settings.effective_api_host} "
                f"(namespace {GUEST}; data in {settings.data_dir})\n"
                + (
                    f"wsk is configured in {props}"
                    if wrote
                    else f"{props} already holds credentials; to use this server run:\n"
                    f"  wsk property set --apihost {settings.effective_api_host} --auth {guest.auth}"
                )
            )
            if on_ready:
                on_ready(message)
        await serving
    finally:
        if serving is not None and not serving.done():
            server.should_exit = True
            await asyncio.wait({serving}, timeout=5)
        await services.drain()  # running sequences need the invoker for their components
        await invoker.stop()
        await services.stop()


def run(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGINT/SIGTERM (handled by `serve`: stop serving, drain the invoker,
    flush the store), on uvloop when it is installed."""
    eventloop.run(serve(settings, on_ready))
