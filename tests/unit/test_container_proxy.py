"""The container state machine (`invoker/proxy.py`) driven through every edge of its transition
table with a fake container and a fake /init + /run client, in the manner of OpenWhisk's
`ContainerProxyTests`: no process, no socket, each step's state and outcome asserted.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest

from pywhisk.common.entities import Action, Exec, Status
from pywhisk.common.entities.activation import ActivationResponse
from pywhisk.common.messages import ActivationMessage, User
from pywhisk.common.runtimes import Runtime, default_manifest
from pywhisk.invoker import outcomes
from pywhisk.invoker.client import Reply, now_ms
from pywhisk.invoker.containers.base import (
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
)
from pywhisk.invoker.containers.layer_tree import LayerTree
from pywhisk.invoker.proxy import _NEXT, ContainerProxy, IllegalTransition, State
from pywhisk.invoker.records import PreparedAction
from pywhisk.invoker.scheduling import ActionKey

KEY = ActionKey("guest", "guest/hello", "1")
_ids = itertools.count()


class FakeContainer(Container):
    """Remembers what was asked of it; `oom` says whether its memory limit killed it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.host = "fake"
        self.port = 0
        self.paused = False
        self.destroyed = False
        self.oom = False
        self.fail_pause = False
        self.fail_resume = False
        self.fail_resize = False
        self.sizes: list[int] = []

    @property
    def exited(self) -> bool:
        return self.destroyed

    async def logs(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        return []

    async def add_layers(self, layers: LayerTree) -> str:
        self.layers = layers
        return "/opt"

    async def pause(self) -> None:
        if self.fail_pause:
            raise ContainerError("cannot freeze")
        self.paused = True

    async def resume(self) -> None:
        if self.fail_resume:
            raise ContainerError("cannot thaw")
        self.paused = False

    async def resize(self, memory_mb: int) -> None:
        if self.fail_resize:
            raise ContainerError("cannot resize")
        self.sizes.append(memory_mb)

    async def destroy(self) -> None:
        self.destroyed = True

    async def out_of_memory(self) -> bool:
        return self.oom


class FakeFactory(ContainerFactory):
    """Creates FakeContainers; `error` makes the next create fail, `gate` holds creates."""

    scheme = "fake"

    def __init__(self) -> None:
        self.created: list[FakeContainer] = []
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def start(self) -> None:
        return None

    async def create(self, name: str, runtime: Runtime, memory_mb: int) -> Container:
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        container = FakeContainer(name)
        self.created.append(container)
        return container

    async def close(self) -> None:
        return None


class FakeClient:
    """Answers /init and /run from scripted replies (default: success)."""

    def __init__(self) -> None:
        self.inits: list[bytes] = []
        self.runs: list[bytes] = []
        self.init_reply: ActivationResponse | None = None  # None: /init succeeded
        self.run_reply = ActivationResponse(status=Status.SUCCESS, result={"ok": True})
        self.run_healthy = True
        self.closed = False
        # When the exchanges begin and end (epoch ns): scripted, or now and 3 / 1 ms later.
        self.init_span: tuple[int, int] | None = None
        self.run_span: tuple[int, int] | None = None

    async def init(self, body: bytes, timeout_ms: int) -> Reply:
        self.inits.append(body)
        start = now_ms() * 1_000_000
        span = self.init_span or (start, start + 3_000_000)
        return Reply(self.init_reply, *span, False, self.init_reply is None)

    async def run(self, body: bytes, timeout_ms: int) -> Reply:
        self.runs.append(body)
        start = now_ms() * 1_000_000
        span = self.run_span or (start, start + 1_000_000)
        return Reply(self.run_reply, *span, False, self.run_healthy)

    async def close(self) -> None:
        self.closed = True


class Harness:
    """A proxy over the fakes; background work (pause, removal) runs as real tasks."""

    def __init__(self) -> None:
        self.factory = FakeFactory()
        self.client = FakeClient()
        self.tasks: list[asyncio.Task[None]] = []
        harness = self

        class Proxy(ContainerProxy):
            def _connect(self, container: Container) -> Any:
                return harness.client

        def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            task = asyncio.get_running_loop().create_task(coro)
            self.tasks.append(task)
            return task

        self.proxy = Proxy(KEY, 256, f"c{next(_ids)}", self.factory, 1 << 20, spawn)

    async def settle(self) -> None:
        await asyncio.gather(*self.tasks)

    @property
    def container(self) -> FakeContainer:
        assert isinstance(self.proxy.container, FakeContainer)
        return self.proxy.container


def prepared(kind: str = "python:3.11") -> PreparedAction:
    action = Action(namespace="guest", name="hello", exec=Exec(kind=kind, code="def main(a): a"))
    return PreparedAction.of(action, "1", default_manifest())


def message() -> ActivationMessage:
    return ActivationMessage(
        transid="tid",
        activation_id=f"{next(_ids):032x}",
        action="guest/hello",
        revision="1",
        version="0.0.1",
        user=User(namespace="guest", subject="guest", auth="u:k"),
        controller=0,
        blocking=True,
        content={"name": "Rob"},
        received=now_ms(),
    )


def runtime() -> Runtime:
    found = default_manifest().resolve("python:3.11")
    assert found is not None
    return found


# -- the table itself ----------------------------------------------------------------------


@pytest.mark.parametrize("source", list(State))
def test_every_transition_outside_the_table_is_illegal(source: State) -> None:
    proxy = Harness().proxy
    for target in State:
        proxy.state = source
        if target in _NEXT[source]:
            proxy._to(target)
            assert proxy.state is target
        else:
            with pytest.raises(IllegalTransition, match=f"{source.name} -> {target.name}"):
                proxy._to(target)
            assert proxy.state is source, "a refused transition leaves the state as it was"


def test_removed_is_final_and_every_live_state_can_be_removed() -> None:
    assert _NEXT[State.REMOVED] == frozenset()
    assert _NEXT[State.REMOVING] == frozenset({State.REMOVED})
    for state in State:
        if state not in (State.REMOVING, State.REMOVED):
            assert State.REMOVING in _NEXT[state], state


# -- cold path: NEW -> STARTING -> INITIALIZING -> BUSY -> READY --------------------------


async def test_cold_run_starts_initializes_runs_and_stays_warm() -> None:
    h = Harness()
    outcome = await h.proxy.run(prepared(), message())
    assert h.proxy.state is State.READY
    assert outcome.response.status == Status.SUCCESS
    assert outcome.kept and outcome.init_time is not None and outcome.init_time >= 0
    assert len(h.factory.created) == 1
    assert len(h.client.inits) == 1 and len(h.client.runs) == 1
    assert b'"name":"Rob"' in h.client.runs[0]


async def test_a_cold_start_is_recorded_from_init_to_run_rounded_up_once() -> None:
    h = Harness()
    ms = 1_000_000
    t0 = 1_700_000_000_000 * ms + 100_000  # 0.1 ms into a millisecond
    h.client.init_span = (t0, t0 + 300_000)  # init: 0.3 ms
    h.client.run_span = (t0 + 400_000, t0 + 1_200_000)  # run: 0.8 ms, ending at 1.3 ms
    outcome = await h.proxy.run(prepared(), message())
    # 1.2 ms from the init's start to the run's end: 2 ms billed (the clock readings' own
    # milliseconds, 0 and 1, would make it 1), starting at the init.
    assert (outcome.start, outcome.end - outcome.start) == (t0 // ms, 2)
    assert outcome.init_time == 1  # 0.3 ms, rounded up, not 0


async def test_warm_run_goes_ready_busy_ready_without_init() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    outcome = await h.proxy.run(prepared(), message())
    assert h.proxy.state is State.READY
    assert outcome.init_time is None, "a warm run reports no initTime"
    assert len(h.client.inits) == 1 and len(h.client.runs) == 2
    assert len(h.factory.created) == 1


async def test_the_state_is_busy_while_the_action_runs() -> None:
    h = Harness()
    seen: list[State] = []
    run = h.client.run

    async def watching(body: bytes, timeout_ms: int) -> Reply:
        seen.append(h.proxy.state)
        return await run(body, timeout_ms)

    h.client.run = watching  # type: ignore[method-assign]
    await h.proxy.run(prepared(), message())
    assert seen == [State.BUSY]


# -- STARTING -> REMOVING: the container could not be had ----------------------------------


async def test_a_failed_start_is_a_whisk_error_and_the_slot_is_removed() -> None:
    h = Harness()
    h.factory.error = ContainerError("engine refused")
    outcome = await h.proxy.run(prepared(), message())
    await h.settle()
    assert outcome.response.status == Status.WHISK_ERROR
    assert outcome.response.result == {"error": outcomes.PROVISION_FAILED}
    assert not outcome.kept and outcome.container is None
    assert h.proxy.state is State.REMOVED


async def test_a_missing_interpreter_is_a_developer_error_with_its_message() -> None:
    h = Harness()
    h.factory.error = RuntimeUnavailable("php is not installed: apt-get install php-cli")
    outcome = await h.proxy.run(prepared(), message())
    assert outcome.response.status == Status.DEVELOPER_ERROR
    assert outcome.response.result == {"error": "php is not installed: apt-get install php-cli"}
    assert h.proxy.state is State.REMOVING


async def test_an_unsupported_kind_never_starts_a_container() -> None:
    h = Harness()
    outcome = await h.proxy.run(prepared("cobol:1"), message())
    assert outcome.response.status == Status.DEVELOPER_ERROR
    assert "cobol:1" in str(outcome.response.result)
    assert h.factory.created == []


async def test_evicted_while_starting_destroys_the_late_container() -> None:
    h = Harness()
    h.factory.gate = asyncio.Event()
    running = asyncio.ensure_future(h.proxy.run(prepared(), message()))
    await asyncio.sleep(0)
    assert h.proxy.state is State.STARTING
    h.proxy.evict()  # shutdown while the container is being made
    assert h.proxy.state is State.REMOVING
    h.factory.gate.set()
    outcome = await running
    await h.settle()
    assert outcome.response.status == Status.WHISK_ERROR
    assert h.factory.created[0].destroyed, "the container that arrived late is not leaked"
    assert h.client.inits == []


# -- INITIALIZING -> REMOVING: /init failed -----------------------------------------------


async def test_a_failed_init_is_reported_and_the_container_removed() -> None:
    h = Harness()
    h.client.init_reply = outcomes.developer_error("SyntaxError: invalid syntax")
    outcome = await h.proxy.run(prepared(), message())
    await h.settle()
    assert outcome.response.result == {"error": "SyntaxError: invalid syntax"}
    assert outcome.init_time is not None and not outcome.kept
    assert h.client.runs == [], "nothing runs in a container that did not initialize"
    assert h.proxy.state is State.REMOVED
    assert h.container.destroyed and h.client.closed


async def test_an_init_killed_by_its_memory_limit_says_so() -> None:
    h = Harness()
    h.client.init_reply = outcomes.developer_error(outcomes.ABNORMAL_INIT)

    async def create(name: str, runtime: Runtime, memory_mb: int) -> Container:
        container = FakeContainer(name)
        container.oom = True
        h.factory.created.append(container)
        return container

    h.factory.create = create  # type: ignore[method-assign]
    outcome = await h.proxy.run(prepared(), message())
    assert outcome.response.result == {"error": outcomes.MEMORY_EXHAUSTED}


# -- BUSY -> REMOVING: the run broke the container ------------------------------------------


async def test_an_unhealthy_run_removes_the_container() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.client.run_reply = outcomes.developer_error(outcomes.ABNORMAL_RUN)
    h.client.run_healthy = False
    outcome = await h.proxy.run(prepared(), message())
    await h.settle()
    assert outcome.response.result == {"error": outcomes.ABNORMAL_RUN}
    assert not outcome.kept
    assert h.proxy.state is State.REMOVED and h.container.destroyed


async def test_a_run_killed_by_its_memory_limit_says_so() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.container.oom = True
    h.client.run_reply = outcomes.developer_error(outcomes.ABNORMAL_RUN)
    h.client.run_healthy = False
    outcome = await h.proxy.run(prepared(), message())
    assert outcome.response.status == Status.DEVELOPER_ERROR
    assert outcome.response.result == {"error": outcomes.MEMORY_EXHAUSTED}


async def test_an_application_error_keeps_the_container_warm() -> None:
    h = Harness()
    h.client.run_reply = ActivationResponse.error(Status.APPLICATION_ERROR, "no such item")
    outcome = await h.proxy.run(prepared(), message())
    assert outcome.kept and h.proxy.state is State.READY
    assert outcome.response.status == Status.APPLICATION_ERROR


async def test_evicted_while_busy_finishes_the_run_then_goes() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    release = asyncio.Event()
    run = h.client.run

    async def slow(body: bytes, timeout_ms: int) -> Reply:
        await release.wait()
        return await run(body, timeout_ms)

    h.client.run = slow  # type: ignore[method-assign]
    running = asyncio.ensure_future(h.proxy.run(prepared(), message()))
    await asyncio.sleep(0)
    assert h.proxy.state is State.BUSY
    h.proxy.evict()
    assert h.proxy.state is State.REMOVING
    release.set()
    outcome = await running
    assert outcome.response.status == Status.SUCCESS, "the activation under way is answered"
    assert not outcome.kept


# -- stem cells: STARTING -> PREWARMED -> INITIALIZING -------------------------------------


async def test_a_stem_cell_is_adopted_and_pays_only_init() -> None:
    h = Harness()
    assert await h.proxy.prewarm(runtime())
    assert h.proxy.state is State.PREWARMED
    assert h.client.inits == []
    outcome = await h.proxy.run(prepared(), message())
    assert h.proxy.state is State.READY and outcome.init_time is not None
    assert len(h.factory.created) == 1 and len(h.client.inits) == 1


async def test_a_stem_cell_of_another_size_is_resized_before_its_init() -> None:
    h = Harness()
    await h.proxy.prewarm(runtime())
    h.proxy.adopt(KEY, h.proxy.memory * 2)
    outcome = await h.proxy.run(prepared(), message())
    assert h.container.sizes == [h.proxy.memory] and len(h.client.inits) == 1
    assert outcome.response.status == Status.SUCCESS and h.proxy.state is State.READY
    await h.proxy.run(prepared(), message())
    assert h.container.sizes == [h.proxy.memory], "resized once, when adopted"


async def test_a_stem_cell_of_the_same_size_is_not_resized() -> None:
    h = Harness()
    await h.proxy.prewarm(runtime())
    h.proxy.adopt(KEY, h.proxy.memory)
    await h.proxy.run(prepared(), message())
    assert h.container.sizes == []


async def test_a_stem_cell_that_cannot_be_resized_is_a_whisk_error_and_removed() -> None:
    h = Harness()
    await h.proxy.prewarm(runtime())
    h.container.fail_resize = True
    h.proxy.adopt(KEY, h.proxy.memory * 2)
    outcome = await h.proxy.run(prepared(), message())
    assert outcome.response.status == Status.WHISK_ERROR and h.client.inits == []
    await h.settle()
    assert h.proxy.state is State.REMOVED and h.container.destroyed


async def test_a_stem_cell_that_cannot_start_is_removed() -> None:
    h = Harness()
    h.factory.error = ContainerError("no")
    assert not await h.proxy.prewarm(runtime())
    await h.settle()
    assert h.proxy.state is State.REMOVED


async def test_an_evicted_stem_cell_is_destroyed() -> None:
    h = Harness()
    await h.proxy.prewarm(runtime())
    h.proxy.evict()
    await h.settle()
    assert h.proxy.state is State.REMOVED and h.container.destroyed


async def test_prewarming_a_container_already_in_use_is_illegal() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    with pytest.raises(IllegalTransition, match="READY -> STARTING"):
        await h.proxy.prewarm(runtime())


# -- READY <-> PAUSED ---------------------------------------------------------------------------


async def test_pause_then_run_resumes_first() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.proxy.pause()
    assert h.proxy.state is State.PAUSED
    await h.settle()
    assert h.container.paused
    outcome = await h.proxy.run(prepared(), message())
    assert not h.container.paused and h.proxy.state is State.READY
    assert outcome.response.status == Status.SUCCESS


async def test_pause_is_ignored_unless_ready() -> None:
    h = Harness()
    h.proxy.pause()  # NEW: nothing to freeze
    assert h.proxy.state is State.NEW
    await h.proxy.prewarm(runtime())
    h.proxy.pause()
    assert h.proxy.state is State.PREWARMED


async def test_a_failed_pause_removes_the_container() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.container.fail_pause = True
    h.proxy.pause()
    await h.settle()
    assert h.proxy.state is State.REMOVED


async def test_a_container_that_cannot_resume_is_a_whisk_error_and_removed() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.proxy.pause()
    await h.settle()
    h.container.fail_resume = True
    outcome = await h.proxy.run(prepared(), message())
    await h.settle()
    assert outcome.response.status == Status.WHISK_ERROR
    assert outcome.response.result == {"error": outcomes.PROVISION_FAILED}
    assert h.proxy.state is State.REMOVED
    assert len(h.client.runs) == 1, "nothing ran in the container that could not resume"


async def test_an_evicted_paused_container_is_removed() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.proxy.pause()
    h.proxy.evict()
    await h.settle()
    assert h.proxy.state is State.REMOVED and h.container.destroyed


# -- REMOVING -> REMOVED and after --------------------------------------------------------


async def test_evicting_twice_removes_once() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.proxy.evict()
    h.proxy.evict()
    await h.proxy.removed()
    assert h.proxy.state is State.REMOVED
    assert len(h.tasks) == 1


async def test_a_removed_container_is_not_usable_and_cannot_run() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    assert h.proxy.usable
    h.proxy.evict()
    await h.proxy.removed()
    assert not h.proxy.usable
    with pytest.raises(IllegalTransition, match="REMOVED -> BUSY"):
        await h.proxy.run(prepared(), message())


async def test_a_container_that_exited_on_its_own_is_not_usable() -> None:
    h = Harness()
    await h.proxy.run(prepared(), message())
    h.container.destroyed = True  # killed from outside: the pool must not hand it out
    assert h.proxy.state is State.READY and not h.proxy.usable
