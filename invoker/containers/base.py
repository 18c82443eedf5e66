"""The containers family: where actions run (docs/architecture.md: one code path, two presets).

Implementations, chosen by `PYWHISK_CONTAINERS_URL`: `ProcessContainerFactory` (`process://`,
standalone: one local process per container) and `DockerContainerFactory` (`docker://`, one
Docker container per warm action slot). Every one passes
`tests/contract/test_container_factory_contract.py`.

A container is something that serves the action protocol (§4) over HTTP at `host:port` (or
at the Unix socket `socket_path`, when it has one), whose
stdout/stderr the invoker can read per activation, and that can be destroyed. Everything about
*what* runs in it (init, run, results) belongs to the invoker, not to the factory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from pywhisk.common import plugins
from pywhisk.common.config import Settings
from pywhisk.common.runtimes import Runtime
from pywhisk.invoker.containers.layer_tree import LayerTree
from pywhisk.invoker.pool_policy import FORMER, PoolPolicy

FACTORIES = {
    "process": "pywhisk.invoker.containers.process:ProcessContainerFactory",
    "docker": "pywhisk.invoker.containers.docker:DockerContainerFactory",
}

MIB = 1024 * 1024


class ContainerError(Exception):
    """A container could not be provided: a whisk error unless said otherwise."""


class RuntimeUnavailable(ContainerError):
    """The kind's interpreter is missing here: the action developer (or operator) must act,
    so this is reported as a developer error with the message as is."""


class Container(ABC):
    """One started container. `host:port` speaks /init and /run, or `socket_path` if set;
    `token`, when set, goes with every request (see docker_network.py)."""

    name: str
    host: str
    port: int
    token: str | None = None
    socket_path: str | None = None

    @property
    @abstractmethod
    def exited(self) -> bool:
        """True once the container's process is gone (killed, crashed, destroyed)."""

    @abstractmethod
    async def logs(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        """The next activation's log lines, OpenWhisk-formatted, sentinels dropped.

        With `wait_for_sentinels`, waits until both streams delivered their sentinel (bounded;
        a notice line is added when they do not come). Without (developer errors, where the
        container is already destroyed), takes whatever the streams hold. Lines past
        `limit_bytes` are replaced by OW's truncation notice.
        """

    @abstractmethod
    async def add_layers(self, layers: LayerTree) -> str:
        """Put the action's layers in place before /init, where it can read and run them but
        not change them; returns that place as the action sees it (`/opt`, as on Lambda, when
        the container has a file system of its own). Raises LayerError when they cannot be
        unpacked, ContainerError when the container cannot take them."""

    @abstractmethod
    async def pause(self) -> None:
        """Freeze every process in the container (idle past the pause grace, §4.7)."""

    @abstractmethod
    async def resume(self) -> None:
        """Undo `pause`. Raises ContainerError when the container cannot run again."""

    @abstractmethod
    async def destroy(self) -> None:
        """Stop the container and free what it holds. Idempotent; logs stay readable."""

    @abstractmethod
    async def resize(self, memory_mb: int) -> None:
        """Give the container the limits of `memory_mb` (its memory cap, and the CPU share
        that goes with it), in place: a stem cell taken for an action of another memory
        size. Raises ContainerError when it cannot."""

    def memory_used(self) -> int | None:
        """MB the container uses now, for a pool that budgets by use (invoker/pool_policy.py);
        None where that cannot be read. Called on the event loop: a few file reads at most."""
        return None

    async def out_of_memory(self) -> bool:
        """Asked after the action died abnormally: did the memory limit kill it? May wait a
        moment for the engine to tell. Containers without a memory limit never say yes."""
        return False


class ContainerFactory(ABC):
    scheme: ClassVar[str]
    # Set by the invoker to its pool's: is there room in the budget for that many MB more?
    # A factory asks before it makes something ahead that `held_memory` will count.
    budget: Callable[[int], bool] | None = None

    @abstractmethod
    async def start(self) -> None:
        """Prepare, and remove containers a crashed earlier invoker with our id left behind."""

    @abstractmethod
    async def create(self, name: str, runtime: Runtime, memory_mb: int) -> Container:
        """Start a container for `runtime` (not yet initialized).

        Raises RuntimeUnavailable when the runtime cannot run here, ContainerError otherwise.
        """

    @abstractmethod
    async def close(self) -> None:
        """Destroy every container this factory created and release its resources."""

    def pool_policy(self) -> PoolPolicy:
        """How the invoker's pool budgets these containers (invoker/pool_policy.py)."""
        return FORMER

    def held_memory(self) -> int:
        """MB used now by what the factory keeps running ahead, outside any container the
        pool knows (process mode's spare sandboxes): the pool counts it against its budget.
        Called on the event loop: a few file reads at most."""
        return 0

    def shed(self) -> None:
        """Give up what `held_memory` counts, because the pool needs the room (in the
        background: the memory is free a moment later)."""
        return None


def factory_from_url(
    url: str, settings: Settings, invoker_id: int | None = None
) -> ContainerFactory:
    """The factory for `url`'s scheme; `invoker_id` (default: settings') names its leftovers."""
    cls = plugins.load("containers", url, FACTORIES)
    invoker = settings.invoker_id if invoker_id is None else invoker_id
    return cls(url, settings, invoker)  # type: ignore[no-any-return]
