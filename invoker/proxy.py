"""One container's lifecycle as an explicit state machine (OW ContainerProxy, docs/openwhisk-compatibility.md §4.7).

    NEW ──> STARTING ──> INITIALIZING ──> BUSY <──> READY <──> PAUSED
     │         │   │          ^   │             │         │          │
     │         │   └> PREWARMED   │             │         │          │
     └─────────┴────────────┴─────┴─────────────┴─────────┴──────────┴──> REMOVING ──> REMOVED

NEW is a slot the pool has already counted (memory) but no container yet. PREWARMED is a
stem cell: a started container of some kind, not yet bound to an action; adopting it for an
activation skips the container start, so that cold start costs /init only. A container is
initialized once, with the first activation's action revision, and then only runs that
revision. A developer or whisk error (init failure, timeout, crash, bad reply) sends it to
REMOVING: the next activation gets a fresh one. READY → REMOVING also happens on idle expiry,
eviction for memory, and a newer revision of the action (all decided by the pool).
READY → PAUSED after the pause grace (the pool's timer; OW pause-grace 10 s): the container is
frozen in the background, and the next activation resumes it before /run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pywhisk.common.entities.activation import ActivationResponse, Status
from pywhisk.common.messages import ActivationMessage
from pywhisk.common.runtimes import Runtime
from pywhisk.invoker import outcomes, records
from pywhisk.invoker.client import ContainerClient, Reply, now_ms, span_end
from pywhisk.invoker.containers.base import (
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
)
from pywhisk.invoker.containers.layer_tree import LayerError
from pywhisk.invoker.records import PreparedAction
from pywhisk.invoker.scheduling import ActionKey

log = logging.getLogger("pywhisk.invoker")


class State(enum.Enum):
    NEW = "new"
    STARTING = "starting"
    PREWARMED = "prewarmed"
    INITIALIZING = "initializing"
    BUSY = "busy"
    READY = "ready"
    PAUSED = "paused"
    REMOVING = "removing"
    REMOVED = "removed"


_NEXT: dict[State, frozenset[State]] = {
    State.NEW: frozenset({State.STARTING, State.REMOVING}),
    State.STARTING: frozenset({State.PREWARMED, State.INITIALIZING, State.REMOVING}),
    State.PREWARMED: frozenset({State.INITIALIZING, State.REMOVING}),
    State.INITIALIZING: frozenset({State.BUSY, State.REMOVING}),
    State.BUSY: frozenset({State.READY, State.REMOVING}),
    State.READY: frozenset({State.BUSY, State.PAUSED, State.REMOVING}),
    State.PAUSED: frozenset({State.READY, State.REMOVING}),
    State.REMOVING: frozenset({State.REMOVED}),
    State.REMOVED: frozenset(),
}
_LIVE = frozenset(
    {
        State.NEW,
        State.STARTING,
        State.PREWARMED,
        State.INITIALIZING,
        State.BUSY,
        State.READY,
        State.PAUSED,
    }
)
# An action that died this way may have been killed by its memory limit: ask the container.
_ABNORMAL = ({"error": outcomes.ABNORMAL_RUN}, {"error": outcomes.ABNORMAL_INIT})


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class RunOutcome:
    response: ActivationResponse
    start: int  # epoch ms: init start on a cold start, else run start
    end: int
    init_time: int | None  # ms, cold starts only
    timed_out: bool
    container: Container | None  # where this activation's logs are; None if none started
    kept: bool  # the container stays warm; else it is being removed
    cause: str | None = None  # why, for a whisk internal error (for the server's log)


Spawn = Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]


class ContainerProxy:
    def __init__(
        self,
        key: ActionKey,
        memory: int,
        name: str,
        factory: ContainerFactory,
        payload_max: int,
        spawn: Spawn,
    ) -> None:
        self.key = key
        self.memory = memory
        self.name = name
        self.state = State.NEW
        self.container: Container | None = None
        self._factory = factory
        self._payload_max = payload_max
        self._spawn = spawn
        self._client: ContainerClient | None = None
        self._removal: asyncio.Task[None] | None = None
        self._pausing: asyncio.Task[None] | None = None
        self._resize = False  # a stem cell adopted for another memory size

    def __repr__(self) -> str:
        return (
            f"ContainerProxy({self.name}, {self.key.action}@{self.key.revision}, {self.state.name})"
        )

    def _to(self, state: State) -> None:
        if state not in _NEXT[self.state]:
            raise IllegalTransition(f"{self.name}: {self.state.name} -> {state.name}")
        self.state = state

    # -- pool protocol ---------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        return self.state in _LIVE and not (self.container is not None and self.container.exited)

    def evict(self) -> None:
        """Idle expiry, eviction for memory, stale revision, shutdown: remove in background."""
        if self.state in _LIVE:
            self._remove()

    def adopt(self, key: ActionKey, memory: int) -> None:
        self.key = key
        if memory != self.memory:
            self.memory = memory
            self._resize = True  # before the /init, in `_start_and_init`

    def pause(self) -> None:
        """Idle past the pause grace: freeze the container in the background."""
        if self.state is State.READY and self.container is not None:
            self._to(State.PAUSED)
            self._pausing = self._spawn(self._pause(self.container))

    async def _pause(self, container: Container) -> None:
        try:
            await container.pause()
        except Exception:
            log.warning("pausing %s failed: removing it", self.name, exc_info=True)
            self._remove()

    async def _resume(self) -> bool:
        """PAUSED → READY; False (and removing) when the container cannot run again."""
        assert self.container is not None
        try:
            if self._pausing is not None:
                await asyncio.shield(self._pausing)
            if self.state is State.PAUSED:
                await self.container.resume()
        except Exception:
            log.warning("resuming %s failed: removing it", self.name, exc_info=True)
            self._remove()
        if self.state is not State.PAUSED:  # removed meanwhile (failed pause, shutdown)
            return False
        self._to(State.READY)
        return True

    async def prewarm(self, runtime: Runtime) -> bool:
        """Start as a stem cell of `runtime`; False if the container could not be started."""
        self._to(State.STARTING)
        try:
            self.container = await self._factory.create(self.name, runtime, self.memory)
        except Exception:
            self._remove()
            return False
        if self.state is not State.STARTING:  # shut down while starting
            self._spawn(self.container.destroy())
            return False
        self._client = client = self._connect(self.container)
        if self.container.socket_path is not None:
            # While it waits for an action: its first /init then finds the connection made
            # and the runtime's side of it accepted. (A socket listens from the container's
            # start; a Docker container's port only once its server is up.)
            await client.connect()
            if self.state is not State.STARTING:  # removed meanwhile: closed, or about to be
                await client.close()
                return False
        self._to(State.PREWARMED)
        return True

    # -- activations -----------------------------------------------------------------------

    async def run(self, prepared: PreparedAction, msg: ActivationMessage) -> RunOutcome:
        """Start and initialize if new, then run. Never raises for an action's failure."""
        init_time: int | None = None
        initialized: Reply | None = None  # a cold start's /init
        if self.state is State.PAUSED and not await self._resume():
            return self._provision_failed(now_ms(), f"{self.name} could not be resumed")
        if self.state is State.NEW or self.state is State.PREWARMED:
            cold = await self._start_and_init(prepared, msg)
            if isinstance(cold, RunOutcome):
                return cold
            initialized, init_time = cold, cold.end - cold.start
        self._to(State.BUSY)
        assert self._client is not None
        deadline = now_ms() + prepared.timeout
        reply = await self._client.run(records.run_body(msg, prepared, deadline), prepared.timeout)
        assert reply.response is not None
        response = reply.response
        if reply.healthy and self.state is State.BUSY:
            self._to(State.READY)
        else:
            response = await self._explain(response)
            self._remove()
        # A cold start's span runs from the init's start to the run's end, rounded up once.
        began = reply if initialized is None else initialized
        return RunOutcome(
            response=response,
            start=began.start,
            end=span_end(began.start_ns, reply.end_ns),
            init_time=init_time,
            timed_out=reply.timed_out,
            container=self.container,
            kept=self.state is State.READY,
        )

    async def _start_and_init(
        self, prepared: PreparedAction, msg: ActivationMessage
    ) -> Reply | RunOutcome:
        began = now_ms()
        if self.state is State.NEW:
            failed = await self._start(prepared, began)
            if failed is not None:
                return failed
        elif self._resize:
            failed = await self._resize_stem(began)
            if failed is not None:
                return failed
        self._to(State.INITIALIZING)
        assert self._client is not None
        layered = await self._add_layers(prepared)
        if isinstance(layered, RunOutcome):
            return layered
        opt, installing = layered
        deadline = now_ms() + prepared.timeout
        reply = await self._client.init(
            records.init_body(msg, prepared, deadline, opt), prepared.timeout
        )
        if opt is not None:  # unpacking the layers is part of the cold start's init time
            reply = dataclasses.replace(reply, start_ns=installing)
        if reply.response is not None or self.state is not State.INITIALIZING:
            response = reply.response or outcomes.developer_error(outcomes.ABNORMAL_INIT)
            response = await self._explain(response)
            self._remove()
            return RunOutcome(
                response=response,
                start=reply.start,
                end=reply.end,
                init_time=reply.end - reply.start,
                timed_out=reply.timed_out,
                container=self.container,
                kept=False,
            )
        return reply

    async def _resize_stem(self, began: int) -> RunOutcome | None:
        """PREWARMED, of another size: the container gets this action's memory limits."""
        assert self.container is not None
        self._resize = False
        try:
            await self.container.resize(self.memory)
        except ContainerError as exc:
            return self._provision_failed(began, f"resizing {self.name} failed: {exc}")
        return None

    async def _add_layers(self, prepared: PreparedAction) -> tuple[str | None, int] | RunOutcome:
        """The action's layers into the container before /init: (where they are, when that
        began in epoch ns), or the outcome of an action whose layers cannot be had (a
        developer error)."""
        began_ns = time.time_ns()
        began = began_ns // 1_000_000
        if prepared.layers_error is not None:
            return self._failed(outcomes.developer_error(prepared.layers_error), began)
        if prepared.layers is None:
            return None, began_ns
        assert self.container is not None
        try:
            return await self.container.add_layers(prepared.layers), began_ns
        except LayerError as exc:
            return self._failed(outcomes.developer_error(str(exc)), began)
        except Exception as exc:  # the container's engine failed us, not the action
            cause = f"putting layers into {self.name} failed: {type(exc).__name__}: {exc}"
            return self._provision_failed(began, cause)

    async def _start(self, prepared: PreparedAction, began: int) -> RunOutcome | None:
        """NEW → STARTING: a container of the action's runtime. An outcome if that failed."""
        self._to(State.STARTING)
        if prepared.runtime is None:
            return self._failed(prepared.unsupported(), began)
        try:
            self.container = await self._factory.create(self.name, prepared.runtime, self.memory)
        except RuntimeUnavailable as exc:
            return self._failed(outcomes.developer_error(str(exc)), began)
        except Exception as exc:  # whatever broke, the user can only be told we could not provision
            cause = f"starting {self.name} failed: {type(exc).__name__}: {exc}"
            return self._provision_failed(began, cause)
        if self.state is not State.STARTING:  # evicted (shutdown) while starting
            self._spawn(self.container.destroy())
            return self._provision_failed(began, f"{self.name} was removed while it started")
        self._client = self._connect(self.container)
        return None

    def _connect(self, container: Container) -> ContainerClient:
        return ContainerClient(
            container.host,
            container.port,
            self._payload_max,
            alive=lambda: not container.exited,
            token=container.token,
            unix_path=container.socket_path,
        )

    async def _explain(self, response: ActivationResponse) -> ActivationResponse:
        """OW's memory message when the action died because of its memory limit."""
        if (
            response.status == Status.DEVELOPER_ERROR
            and response.result in _ABNORMAL
            and self.container is not None
        ):
            try:
                if await self.container.out_of_memory():
                    return outcomes.developer_error(outcomes.MEMORY_EXHAUSTED)
            except Exception:
                log.warning("asking %s about its memory failed", self.name, exc_info=True)
        return response

    def _failed(
        self, response: ActivationResponse, began: int, cause: str | None = None
    ) -> RunOutcome:
        self._remove()
        return RunOutcome(response, began, now_ms(), None, False, self.container, False, cause)

    def _provision_failed(self, began: int, cause: str) -> RunOutcome:
        response = ActivationResponse.error(Status.WHISK_ERROR, outcomes.PROVISION_FAILED)
        return self._failed(response, began, cause)

    # -- removal ---------------------------------------------------------------------------

    def _remove(self) -> None:
        if self.state in _LIVE:
            self._to(State.REMOVING)
            self._removal = self._spawn(self._destroy())

    async def _destroy(self) -> None:
        try:
            if self._client is not None:
                await self._client.close()
            if self.container is not None:
                await self.container.destroy()
        finally:
            self.state = State.REMOVED

    async def removed(self) -> None:
        """Wait until the container is gone (its logs can then be read to the end)."""
        if self._removal is not None:
            await asyncio.shield(self._removal)
