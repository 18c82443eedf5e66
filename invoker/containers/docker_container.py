"""One Docker container as the invoker sees it: its output (FIFOs of its own, docker_output.py,
or the engine's attach stream), its action's layers, pause
and resume, how it died (the engine's oom events), its removal. The factory (docker.py)
starts it.

Layers go in as a tar stream the engine unpacks under /opt as root (`docker cp`'s API call):
the runtime images keep /opt root's, and the action runs as their unprivileged user, so it
can read and run them but neither write nor chmod anything there, as on Lambda."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from docker import errors as docker_errors

from pywhisk.invoker.containers.base import Container, ContainerError
from pywhisk.invoker.containers.docker_attach import AttachStream, pump, release
from pywhisk.invoker.containers.docker_output import OutputChannel
from pywhisk.invoker.containers.layer_tree import LayerError, LayerTree
from pywhisk.invoker.containers.logs import EOF_WAIT, ContainerLogs

T = TypeVar("T")


class Engine(Protocol):
    """What a container asks of the factory that made it (docker.py's DockerContainerFactory):
    engine calls off the event loop, and the factory's own bookkeeping."""

    log_cap: int
    client: Any

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def forget(self, container: DockerContainer) -> None: ...

    def remove(self, cid: str) -> None: ...

    def oom_killed(self, cid: str) -> bool: ...

    def cpu_shares(self, memory_mb: int) -> int: ...


log = logging.getLogger("pywhisk.invoker")

LAYER_DIR = "/opt"
_OOM_WAIT = 0.2  # after an abnormal death: how long to wait for the engine's oom event


class DockerContainer(Container):
    def __init__(
        self,
        factory: Engine,
        name: str,
        cid: str,
        host: str,
        port: int,
        token: str,
        output: OutputChannel | None = None,
    ) -> None:
        self.name = name
        self.id = cid
        self.host = host
        self.port = port
        self.token = token
        self.log = ContainerLogs(factory.log_cap)
        self._factory = factory
        self._exit = asyncio.get_running_loop().create_future()
        self._oom = asyncio.Event()
        self._transport: asyncio.BaseTransport | None = None
        self._raw: Any = None
        self._output = output  # its FIFOs (docker_output.py), or None: the attach stream
        self._destroyed: asyncio.Task[None] | None = None

    async def attach(self, raw: Any) -> None:
        """Start reading the attach stream `raw` (the SDK's socket) on the event loop."""
        loop = asyncio.get_running_loop()
        stream = AttachStream(self.log, self._ended)
        sock = getattr(raw, "_sock", raw)
        if type(sock) is socket.socket:  # unix or plain TCP: asyncio adopts a copy of it
            own = socket.socket(fileno=os.dup(sock.fileno()))
            release(raw)
            self._transport, _ = await loop.connect_accepted_socket(lambda: stream, own)
        else:
            self._raw = raw
            threading.Thread(
                target=pump, args=(raw, loop, stream), name=f"attach-{self.name}", daemon=True
            ).start()

    def read_output(self, running: bool) -> None:
        """Start reading the container's FIFOs; `running`: whether the engine saw it running
        after its start (one that died before it opened them would never close them)."""
        assert self._output is not None
        self._output.read(self.log, self._ended)
        if not running:  # what it wrote, if it opened them, comes with their end of file
            asyncio.get_running_loop().call_later(EOF_WAIT, self._output_gone)

    def _output_gone(self) -> None:
        if not self.exited and self._output is not None:
            self._output.close()  # ends both streams

    def _ended(self) -> None:
        if not self._exit.done():
            self._exit.set_result(None)

    @property
    def exited(self) -> bool:
        return self._exit.done()

    async def logs(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        return await self.log.activation(limit_bytes, wait_for_sentinels)

    async def add_layers(self, layers: LayerTree) -> str:
        await self._factory.call(self._put_layers, layers)
        return LAYER_DIR

    def _put_layers(self, layers: LayerTree) -> None:
        """On the factory's threads: a temporary file holds the tar, which may be 100s of MB."""
        with tempfile.TemporaryFile() as tar:
            layers.write_tar(tar)
            tar.seek(0)
            try:
                self._factory.client.api.put_archive(self.id, LAYER_DIR, tar)
            except docker_errors.NotFound as exc:  # an image (a blackbox's) without /opt
                raise LayerError(
                    f"The action's layers need {LAYER_DIR} in its image: {exc}"
                ) from exc
            except docker_errors.APIError as exc:
                raise ContainerError(f"cannot put layers into {self.name}: {exc}") from exc

    async def pause(self) -> None:
        await self._factory.call(self._factory.client.api.pause, self.id)

    async def resume(self) -> None:
        if self.exited:
            raise ContainerError(f"container {self.name} is gone")
        try:
            await self._factory.call(self._factory.client.api.unpause, self.id)
        except docker_errors.APIError as exc:
            raise ContainerError(f"cannot resume container {self.name}: {exc}") from exc

    async def resize(self, memory_mb: int) -> None:
        try:
            await self._factory.call(
                self._factory.client.api.update_container,
                self.id,
                mem_limit=f"{memory_mb}m",
                memswap_limit=f"{memory_mb}m",
                cpu_shares=self._factory.cpu_shares(memory_mb),
            )
        except docker_errors.APIError as exc:
            raise ContainerError(f"cannot resize container {self.name}: {exc}") from exc

    def oom_killed(self) -> None:
        self._oom.set()

    async def out_of_memory(self) -> bool:
        if not self._oom.is_set():
            oom = asyncio.ensure_future(self._oom.wait())
            try:
                await asyncio.wait(
                    {oom, self._exit}, timeout=_OOM_WAIT, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                oom.cancel()
        if self._oom.is_set():
            return True
        if self.exited:  # the engine's record is final once it has seen the exit
            return await self._factory.call(self._factory.oom_killed, self.id)
        return False

    async def destroy(self) -> None:
        if self._destroyed is None:
            self._destroyed = asyncio.get_running_loop().create_task(self._destroy())
        await asyncio.shield(self._destroyed)

    async def _destroy(self) -> None:
        try:
            await self._factory.call(self._factory.remove, self.id)
        except Exception:
            log.warning("removing container %s failed", self.name, exc_info=True)
        await self.log.wait_eof(EOF_WAIT)  # what was written before the kill
        if self._transport is not None:
            self._transport.close()
        if self._raw is not None:
            release(self._raw)
        if self._output is not None:
            self._output.close()
        self._ended()
        self._factory.forget(self)
