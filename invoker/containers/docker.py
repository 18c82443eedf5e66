"""Docker containers (`docker://`): one container per warm action slot (docs/openwhisk-compatibility.md §4.1, §8.4).

Each container runs the runtime's image (a blackbox action: its own image) as OW's
DockerContainer starts it: memory limit = the action's memory with swap off (memory-swap
equal), CPU shares proportional to memory (1024 × memory / the invoker's user memory, at least
2), every capability dropped (the proxy listens on 8080 and writes its work dir: it needs
none), no-new-privileges, 1024 pids, nofile 1024:1024, `__OW_API_HOST`, and port 8080
published on 127.0.0.1 at a port the engine picks, read back after start.

The invoker talks to a container at its own address on its network, as OW does, when that
address is reachable from here (the first container tells: a refused connection says yes):
that skips the engine's port forwarder, a process hop that cost ~0.2 ms of CPU per activation
here, and is the only way in from an invoker that itself runs in a container on that network.
Otherwise (a remote engine, a VM between us) the published port is used.

The `docker` SDK blocks, so its calls run on the factory's own small thread pool, never on
the event loop; starting a container is one trip there (create, attach if need be, start, inspect).
Output (the action's lines and the sentinels ending each activation) comes through two FIFOs
of the container's own, bind-mounted into it, which its entrypoint opens as stdout and stderr
(docker_output.py): the engine relays nothing per activation, and their end of file is how a
death is noticed. Where the invoker's files are not the engine's (a remote engine, an invoker
in a container of its own) and for blackbox images (whose entrypoint we cannot wrap), output
comes from the engine's attach stream instead, opened before start so nothing is missed;
asyncio reads it and demultiplexes Docker's frames into the same ContainerLogs (a thread does
it for transports asyncio cannot adopt, e.g. TLS); its end is the death. OOM kills come from
the engine's `oom` events (one stream per factory, read on a thread): a container whose
launcher the kernel killed keeps running, and the engine records `State.OOMKilled` only once
the container has exited.

Labels: `pywhisk.installation` (common/installation.py: containers of another installation
on the same engine are never looked at, let alone removed; names start with it too, so they
do not collide), `pywhisk.invoker` (our id: `start()` removes what a crashed invoker with this
id left behind), `pywhisk.owner` (host/pid/process start time, so that a live invoker's
containers are never taken for leftovers), `pywhisk.kind`. Containers without an
installation label (made before there was one) are left alone.

Isolation between containers (their own network without inter-container traffic, a secret
per runtime): see docker_network.py.

URL: `docker://` talks to the engine DOCKER_HOST names (default unix:///var/run/docker.sock).
Options: `?network=NAME` attaches containers to that network (default: `pywhisk-actions`,
created when missing);
`?direct=1|0` always/never talks to containers at their own address (default: if reachable);
`?output=fifo|attach` how output comes (default: fifo when the engine sees this process's
files at their paths, engine_shares_files; attach otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from pywhisk.common.config import Settings
from pywhisk.common.installation import installation_id
from pywhisk.common.logcontext import without_ids
from pywhisk.common.runtimes import BLACKBOX, Runtime
from pywhisk.invoker.containers.base import (
    MIB,
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
)
from pywhisk.invoker.pool_policy import PoolPolicy, policy_from_options

try:
    import docker
    from docker import errors as docker_errors
    from docker.types import LogConfig, Ulimit
except ImportError:  # a ContainerError, so that `pywhisk standalone` says it plainly
    raise ContainerError(
        "docker:// containers need the Docker SDK for Python: pip install 'pywhisk[docker]'"
    ) from None

from pywhisk.invoker.containers.docker_attach import release
from pywhisk.invoker.containers.docker_container import DockerContainer
from pywhisk.invoker.containers.docker_network import (
    DEFAULT_NETWORK,
    TOKEN_ENV,
    ensure_network,
    new_token,
    reachable,
)
from pywhisk.invoker.containers.docker_output import OutputChannel, OutputDirs, entrypoint
from pywhisk.invoker.containers.owners import owner_alive, owner_of

log = logging.getLogger("pywhisk.invoker")

T = TypeVar("T")

PORT = 8080
DEFAULT_HOST = "unix:///var/run/docker.sock"
LABEL_INSTALLATION = "pywhisk.installation"
LABEL_INVOKER = "pywhisk.invoker"
LABEL_OWNER = "pywhisk.owner"
LABEL_KIND = "pywhisk.kind"
_WORKERS = 8
_API_TIMEOUT = 60


def pull_failed(image: str) -> str:
    return f"Failed to pull container image '{image}'."  # OW Messages.imagePullError


class DockerContainerFactory(ContainerFactory):
    scheme = "docker"

    def __init__(self, url: str, settings: Settings, invoker_id: int) -> None:
        options = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        self.network = options.get("network", DEFAULT_NETWORK)
        try:  # reservations: a container's memory is the engine's, not sampled here
            self._pool_policy = policy_from_options(options, measured=False)
        except ValueError as exc:
            raise ContainerError(f"docker://?{exc}") from None
        self.invoker_id = invoker_id
        self.api_host = settings.effective_api_host
        self.gateway: str | None = None  # the network's, once started
        self._api_port: int | None = None  # see share_api
        self.user_memory = settings.user_memory
        # As process containers: room for the largest log limit plus slack.
        self.log_cap = settings.max_action_logs * MIB + 64 * 1024
        self.engine = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        self.owner = owner_of(os.getpid())
        self._installation_setting = settings.installation_id
        self._data_dir = settings.data_dir
        self.installation = ""  # known once started
        self.client: Any = None
        self._suffix = ""  # added to names when a live invoker with our id shares the engine
        # Talk to containers at their own address (True), or through the published port;
        # None: decided by the first container (reachable from here or not).
        self.direct: bool | None = {"1": True, "0": False}.get(options.get("direct", ""))
        output = options.get("output", "")
        if output not in ("", "fifo", "attach"):
            raise ContainerError(f"docker://?output= takes fifo or attach, not {output!r}")
        self._output = output  # "": fifo if the engine shares our files (see _connect)
        self._outputs: OutputDirs | None = None
        self._output_base = Path(settings.data_dir).absolute() / "docker-output"
        self._commands: dict[str, list[str]] = {}  # an image's entrypoint and command
        self._executor: ThreadPoolExecutor | None = None
        self._containers: dict[str, DockerContainer] = {}
        self._images: set[str] = set()  # known to be on the engine
        self._fetching: dict[str, asyncio.Future[None]] = {}
        self._host_configs: dict[int, Any] = {}
        self._events: Any = None
        self._watcher: threading.Thread | None = None
        self._closing = False

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking SDK call on the factory's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    # -- lifecycle -------------------------------------------------------------------------

    def pool_policy(self) -> PoolPolicy:
        return self._pool_policy

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix=f"docker{self.invoker_id}")
        self.installation = await self.call(
            installation_id, self._installation_setting, self._data_dir
        )
        self.client = await self.call(self._connect)
        if self._output == "fifo":
            self._outputs = OutputDirs(self._output_base, socket.gethostname())
            await self.call(self._outputs.create)
        self.gateway = await self.call(ensure_network, self.client, self.network)
        if self._api_port is not None and self.gateway:
            self.api_host = f"http://{self.gateway}:{self._api_port}"
        leftovers, live = await self.call(self._our_containers)
        if live:
            self._suffix = "_" + secrets.token_hex(3)
        if leftovers:
            log.info(
                "removing %d containers a previous invoker%d left", len(leftovers), self.invoker_id
            )
            await asyncio.gather(*(self.call(self.remove, cid) for cid in leftovers))
        self._watcher = threading.Thread(
            target=self._watch_ooms,
            args=(asyncio.get_running_loop(),),
            name=f"docker{self.invoker_id}-events",
            daemon=True,
        )
        self._watcher.start()

    def share_api(self, port: int) -> None:
        """This process also serves the API on the network's gateway address at `port`
        (standalone): once started, containers get that as `__OW_API_HOST`, since the
        loopback address the API has for its own users is the container's own there."""
        self._api_port = port

    async def close(self) -> None:
        self._closing = True
        await asyncio.gather(*(c.destroy() for c in list(self._containers.values())))
        if self._executor is None:
            return
        if self._events is not None:
            await self.call(self._events.close)
        if self._watcher is not None:
            await self.call(self._watcher.join, 5)
        if self.client is not None:
            await self.call(self.client.close)
            self.client = None
        if self._outputs is not None:
            await self.call(self._outputs.remove)
        self._executor.shutdown(wait=False)
        self._executor = None

    def _connect(self) -> Any:
        try:
            if self.engine.startswith("unix://"):
                # The SDK leaks the socket of a failed unix connect: find out ourselves first.
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.settimeout(_API_TIMEOUT)
                    probe.connect(self.engine.removeprefix("unix://"))
            client = docker.from_env(timeout=_API_TIMEOUT)
            client.ping()
            if not self._output:
                self._output = "fifo" if engine_shares_files(self.engine) else "attach"
        except Exception as exc:  # DockerException, requests' errors, OSError: no engine
            where = f"DOCKER_HOST={self.engine}" if os.environ.get("DOCKER_HOST") else self.engine
            raise ContainerError(
                f"Cannot reach the Docker engine at {where}: {_reason(exc)}. Is dockerd running? "
                "Start it as root with `dockerd > /var/log/dockerd.log 2>&1 &` (it comes with "
                "`apt-get install docker.io`), or set DOCKER_HOST to an engine that is running; "
                "PYWHISK_CONTAINERS_URL=process:// runs actions without Docker."
            ) from None
        return client

    def _our_containers(self) -> tuple[list[str], bool]:
        """(ids of leftovers with our invoker id, whether a live invoker owns others)."""
        found = self.client.api.containers(all=True, filters={"label": self._our_labels()})
        leftovers, live = [], False
        for c in found:
            if owner_alive((c.get("Labels") or {}).get(LABEL_OWNER, "")):
                live = True
            else:
                leftovers.append(c["Id"])
        return leftovers, live

    def _our_labels(self) -> list[str]:
        """Label filters (all must match) for this invoker's containers of this installation."""
        return [f"{LABEL_INSTALLATION}={self.installation}", f"{LABEL_INVOKER}={self.invoker_id}"]

    def _watch_ooms(self, loop: asyncio.AbstractEventLoop) -> None:
        """Feed the engine's oom events for our containers to them (on a thread)."""
        filters = {"type": "container", "event": "oom", "label": self._our_labels()}
        while not self._closing:
            try:
                self._events = self.client.api.events(decode=True, filters=filters)
                if self._closing:  # close() may have missed it
                    self._events.close()
                    break
                for event in self._events:
                    loop.call_soon_threadsafe(self._on_oom, event.get("id", ""))
            except Exception:
                if not self._closing:
                    log.warning("docker events stream broke: reconnecting", exc_info=True)
            if not self._closing:
                time.sleep(1.0)

    def _on_oom(self, cid: str) -> None:
        container = self._containers.get(cid)
        if container is not None:
            container.oom_killed()

    # -- containers ------------------------------------------------------------------------

    async def create(self, name: str, runtime: Runtime, memory_mb: int) -> Container:
        if self.client is None or self._closing:
            raise ContainerError("the docker container factory is not started")
        await self._ensure_image(runtime)
        output: OutputChannel | None = None
        try:
            token = new_token()
            if self._outputs is not None and self._commands.get(runtime.image):
                output = await self.call(self._outputs.open, self._name(name))
            cid, host, port, raw, running = await self.call(
                self._start, name, runtime, memory_mb, token, output
            )
        except BaseException as exc:
            if output is not None:
                output.close()
            if isinstance(exc, docker_errors.ImageNotFound):  # removed since we looked
                self._images.discard(runtime.image)
                raise ContainerError(f"image {runtime.image} disappeared") from None
            if isinstance(exc, Exception):
                raise ContainerError(f"cannot start container {name}: {exc}") from exc
            raise
        container = DockerContainer(self, name, cid, host, port, token, output)
        self._containers[cid] = container
        if output is not None:
            container.read_output(running)
        else:
            await container.attach(raw)
        if self._closing:  # closed while starting
            await container.destroy()
            raise ContainerError("the docker container factory is closed")
        return container

    def forget(self, container: DockerContainer) -> None:
        self._containers.pop(container.id, None)

    def _start(
        self, name: str, runtime: Runtime, memory: int, token: str, output: OutputChannel | None
    ) -> tuple[str, str, int, Any, bool]:
        """Create and start; (id, host, port, attach stream or None, running after start)."""
        api = self.client.api
        try:
            cid = self._create(self._name(name), runtime, memory, token, output)
        except docker_errors.APIError as exc:
            if exc.status_code != 409 or self._suffix:
                raise
            # The name is taken: a live invoker of ours with our id names containers as we do.
            self._suffix = "_" + secrets.token_hex(3)
            cid = self._create(self._name(name), runtime, memory, token, output)
        raw = None
        try:
            if output is None:
                raw = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1})
            api.start(cid)
            inspected = api.inspect_container(cid)
            network = inspected["NetworkSettings"]
            running = bool((inspected.get("State") or {}).get("Running"))
        except BaseException:
            if raw is not None:
                release(raw)
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True)
            raise
        ip = ((network.get("Networks") or {}).get(self.network) or {}).get("IPAddress")
        if ip and self.direct is None:
            self.direct = reachable(ip, PORT)
        if ip and self.direct:
            return cid, ip, PORT, raw, running
        # No binding: the container exited as it started. /init will find nobody there and
        # report it as OW does (the action did not initialize), with its output as logs.
        ports = network.get("Ports") or {}
        binding = (ports.get(f"{PORT}/tcp") or [{"HostIp": "127.0.0.1", "HostPort": "0"}])[0]
        return cid, binding["HostIp"] or "127.0.0.1", int(binding["HostPort"]), raw, running

    def _name(self, name: str) -> str:
        return f"{self.installation}_{name}{self._suffix}"

    def _create(
        self, name: str, runtime: Runtime, memory: int, token: str, output: OutputChannel | None
    ) -> str:
        host_config = self._host_config(memory)
        extra: dict[str, Any] = {}
        if output is not None:
            host_config = {
                **host_config,
                "Binds": [f"{path}:{b['bind']}:{b['mode']}" for path, b in output.bind.items()],
            }
            extra["entrypoint"] = entrypoint(self._commands[runtime.image])
        return self.client.api.create_container(  # type: ignore[no-any-return]
            runtime.image,
            name=name,
            **extra,
            labels={
                LABEL_INSTALLATION: self.installation,
                LABEL_INVOKER: str(self.invoker_id),
                LABEL_OWNER: self.owner,
                LABEL_KIND: runtime.kind,
            },
            environment={"__OW_API_HOST": self.api_host, TOKEN_ENV: token},
            ports=[PORT],
            host_config=host_config,
        )["Id"]

    def cpu_shares(self, memory_mb: int) -> int:
        """OpenWhisk's CPU share by memory: 1024 × memory / the invoker's user memory."""
        return max(1024 * memory_mb // self.user_memory, 2)

    def _host_config(self, memory: int) -> Any:
        config = self._host_configs.get(memory)
        if config is None:
            config = self._host_configs[memory] = self.client.api.create_host_config(
                mem_limit=f"{memory}m",
                memswap_limit=f"{memory}m",
                cpu_shares=self.cpu_shares(memory),
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=1024,
                ulimits=[Ulimit(name="nofile", soft=1024, hard=1024)],
                port_bindings={PORT: ("127.0.0.1", None)},
                network_mode=self.network,
                # The FIFOs or the attach stream carry all output into the activation
                # records: a copy on the engine's disk (`docker logs`) would cost its CPU on
                # every line.
                log_config=LogConfig(type="none"),
            )
        return config

    def remove(self, cid: str) -> None:
        with contextlib.suppress(docker_errors.NotFound):
            try:
                self.client.api.remove_container(cid, force=True)
            except docker_errors.APIError as exc:
                if exc.status_code != 409:  # 409: removal already in progress
                    raise

    def oom_killed(self, cid: str) -> bool:
        try:
            self.client.api.wait(cid, timeout=5, condition="not-running")
            return bool(self.client.api.inspect_container(cid)["State"].get("OOMKilled"))
        except Exception:  # gone already, or the engine is slow: we cannot tell
            return False

    # -- images ----------------------------------------------------------------------------

    async def _ensure_image(self, runtime: Runtime) -> None:
        """The image is on the engine, pulled if need be (one look-up per image, cached)."""
        image = runtime.image
        if image in self._images:
            return
        fetching = self._fetching.get(image)
        if fetching is None:
            fetching = asyncio.get_running_loop().create_task(
                self._fetch_image(runtime), context=without_ids()
            )
            self._fetching[image] = fetching
            fetching.add_done_callback(lambda _: self._fetching.pop(image, None))
        await asyncio.shield(fetching)

    async def _fetch_image(self, runtime: Runtime) -> None:
        image = runtime.image
        if not await self.call(self._has_image, image):
            try:
                await self.call(self.client.api.pull, image)
            except Exception as exc:
                log.info("pulling %s failed: %s", image, _reason(exc))
            if not await self.call(self._has_image, image):
                if runtime.kind == BLACKBOX:
                    raise RuntimeUnavailable(pull_failed(image))
                raise RuntimeUnavailable(
                    f"The {runtime.kind} runtime image '{image}' is not on this invoker's "
                    "Docker engine and could not be pulled: build the runtime images with "
                    "`pywhisk images build`."
                )
        if runtime.kind == BLACKBOX:
            self._commands.pop(image, None)
        self._images.add(image)

    def _has_image(self, image: str) -> bool:
        try:
            config = self.client.api.inspect_image(image).get("Config") or {}
        except docker_errors.ImageNotFound:
            return False
        # What docker_output.entrypoint wraps, for runtime images (which have /bin/sh; a
        # blackbox image may not, and keeps the attach stream: see _fetch_image).
        self._commands[image] = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        return True


def engine_shares_files(engine: str) -> bool:
    """Whether a bind mount of one of our paths gives the container our file: the engine
    listens on a unix socket, its process is in our pid namespace (the socket's peer pid is
    0 otherwise) and its root is ours. Not so for an invoker in a container of its own that
    was handed the host's socket, nor for a remote engine; nor can it be told when we may not
    look at the engine's root (an invoker that is not root): `?output=fifo` says so."""
    if not engine.startswith("unix://"):
        return False
    try:
        with socket.socket(socket.AF_UNIX) as probe:
            probe.settimeout(_API_TIMEOUT)
            probe.connect(engine.removeprefix("unix://"))
            creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid = int.from_bytes(creds[:4], sys.byteorder)
        if pid <= 0:
            return False
        theirs, ours = os.stat(f"/proc/{pid}/root"), os.stat("/")
    except OSError:
        return False
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc)
    for needle, reason in (
        ("No such file or directory", "no such file or directory"),
        ("Connection refused", "connection refused"),
        ("Permission denied", "permission denied"),
    ):
        if needle in text:
            return reason
    return text
