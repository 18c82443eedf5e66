"""The Invoker end to end: a real SqliteStore (temp file), a MemoryQueue, process containers
running the real action_runtime. Each test puts an action doc in `store.entities`, sends
ActivationMessages on `invoker0` and checks the completion and the stored record.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities.limits import ActionLimits
from pywhisk.common.entities.params import KeyValue
from pywhisk.common.messages import Message
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.invoker import outcomes
from pywhisk.invoker.containers.base import factory_from_url
from pywhisk.invoker.containers.process import ProcessContainer, ProcessContainerFactory
from pywhisk.invoker.containers.process_spares import REFILL_DELAY
from pywhisk.invoker.proxy import State
from pywhisk.invoker.service import Invoker
from tests.support.invoker import (
    HELLO,
    USER,
    Harness,
    annotation,
    close,
    make_harness,
    root,
)
from tests.support.polling import wait_until_async

__all__ = ["root"]  # the fixture make_harness needs


@pytest.fixture
async def harness(tmp_path: Path, root: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path, root)
    yield h
    await close(h)


async def test_cold_then_warm(harness: Harness) -> None:
    doc_id = await harness.put_action("hello", HELLO)
    first = await harness.invoke(doc_id, {"name": "Ann"})
    assert first["response"] == {
        "status": "success",
        "success": True,
        "result": {"greeting": "Hello Ann"},
        "size": 24,  # the reply as the runtime spelled it (OW: raw length)
    }
    assert first["logs"] == []
    assert first["namespace"] == "alice" and first["subject"] == "alice"
    assert first["name"] == "hello" and first["version"] == "0.0.1"
    assert annotation(first, "initTime") is not None
    assert annotation(first, "path") == "guest/hello"
    assert annotation(first, "kind") == "python:3.11"
    assert annotation(first, "timeout") is False
    assert annotation(first, "limits") == {
        "timeout": 60000,
        "memory": 256,
        "logs": 10,
        "concurrency": 1,
    }
    assert annotation(first, "waitTime") >= 0
    second = await harness.invoke(doc_id, {"name": "Bob"})
    assert second["response"]["result"] == {"greeting": "Hello Bob"}
    assert annotation(second, "initTime") is None  # warm
    assert len(harness.live_containers()) == 1

    record = await harness.record(second["activationId"])
    assert record["response"]["statusCode"] == 0
    assert [line[31:] for line in record["logs"]] == ["stdout: hello Bob"]
    assert record["duration"] == record["end"] - record["start"]
    first_record = await harness.record(first["activationId"])
    assert [line[31:] for line in first_record["logs"]] == ["stdout: hello Ann"]


async def test_completions_carry_the_record_until_pings_say_it_is_stored(
    harness: Harness,
) -> None:
    """Non-blocking too: if this invoker dies before writing the record, a controller
    writes it from the completion, until `stored_until` (sent in pings) passes `accepted`."""
    doc_id = await harness.put_action("hello", HELLO)
    msg = harness.message(doc_id, {"name": "Nb"}, blocking=False)
    await harness.send(msg)
    done = await harness.completion()
    assert done.activation_id == msg.activation_id and not done.system_error
    assert done.activation is not None
    assert done.activation["response"]["result"] == {"greeting": "Hello Nb"}
    assert done.accepted > 0
    await wait_until_async(
        harness.invoker.stored_until,
        f"stored_until past the activation's acceptance {done.accepted}",
        timeout=5,
        interval=0.01,
        until=lambda stored_until: stored_until > done.accepted,
    )
    # Written by then: another connection to the store reads it.
    other = SqliteStore(f"sqlite:///{harness.store.path}")
    await other.open()
    try:
        record = await other.activations.get(USER.namespace, msg.activation_id)
    finally:
        await other.close()
    assert record is not None and record["response"]["result"] == {"greeting": "Hello Nb"}


async def test_application_error_keeps_the_container(harness: Harness) -> None:
    doc_id = await harness.put_action("boom", "def main(a):\n    raise ValueError('bad input')\n")
    first = await harness.invoke(doc_id)
    assert first["response"]["status"] == "application error"
    assert "bad input" in first["response"]["result"]["error"]
    second = await harness.invoke(doc_id)
    assert annotation(second, "initTime") is None  # same container
    record = await harness.record(first["activationId"])
    assert record["response"]["statusCode"] == 1
    assert any("ValueError" in line for line in record["logs"])  # the traceback


async def test_non_dict_result_is_a_developer_error(harness: Harness) -> None:
    doc_id = await harness.put_action("scalar", "def main(a):\n    return 42\n")
    first = await harness.invoke(doc_id)
    assert first["response"]["status"] == "action developer error"
    second = await harness.invoke(doc_id)
    assert annotation(second, "initTime") is not None  # the container was replaced


async def test_syntax_error_is_reported_at_init(harness: Harness) -> None:
    doc_id = await harness.put_action("broken", "def main(a)\n    return {}\n")
    activation = await harness.invoke(doc_id)
    assert activation["response"]["status"] == "action developer error"
    assert "SyntaxError" in activation["response"]["result"]["error"]
    assert annotation(activation, "initTime") is not None
    record = await harness.record(activation["activationId"])
    assert record["logs"][-1].endswith("stderr: " + outcomes.LOGS_MISSING)
    assert harness.live_containers() == []


async def test_exit_in_the_action_then_a_fresh_container(harness: Harness) -> None:
    code = "import sys\ndef main(a):\n    if a.get('die'):\n        print('dying')\n        sys.exit(3)\n    return {'ok': True}\n"
    doc_id = await harness.put_action("exits", code)
    await harness.invoke(doc_id)
    died = await harness.invoke(doc_id, {"die": True})
    assert died["response"]["status"] == "action developer error"
    assert died["response"]["result"] == {"error": outcomes.ABNORMAL_RUN}
    again = await harness.invoke(doc_id)
    assert again["response"]["result"] == {"ok": True}
    assert annotation(again, "initTime") is not None
    record = await harness.record(died["activationId"])
    assert any(line.endswith("stdout: dying") for line in record["logs"])


async def test_a_stem_cell_of_another_size_is_resized_in_place(tmp_path: Path, root: Path) -> None:
    """An action of a memory size no stem cell has takes the python stem cell anyway, its
    container's cgroup set to that size before the /init (no new container)."""
    h = await make_harness(tmp_path, root, prewarm=True)
    try:
        await wait_until_async(
            lambda: [(p.state, p.memory) for p in h.invoker.pool.stems],
            "a prewarmed 256 MB stem cell",
            timeout=10,
            interval=0.02,
            until=lambda stems: (State.PREWARMED, 256) in stems,
        )
        await asyncio.sleep(0.3)  # let the runtimes finish booting, as they have in real life
        stems_before = set(h.invoker.pool.stems)
        doc_id = await h.put_action("big", HELLO, limits=ActionLimits(memory=512))
        activation = await h.invoke(doc_id, {"name": "B"})
        assert activation["response"]["result"] == {"greeting": "Hello B"}
        (adopted,) = h.live_containers()
        assert adopted in stems_before and adopted.memory == 512
        container = adopted.container
        assert isinstance(container, ProcessContainer)
        if container.cgroup is not None:  # the sandbox's cgroups (root): the cap moved too
            memory = container.cgroup.dirs["memory"]
            assert int((memory / "memory.limit_in_bytes").read_text()) == 512 * 1024 * 1024
    finally:
        await close(h)


async def test_runaway_action_is_stopped_at_its_timeout(harness: Harness) -> None:
    code = "import time\ndef main(a):\n    if a.get('spin'):\n        print('spinning', flush=True)\n        while True:\n            pass\n    return {'ok': 1}\n"
    # 1.5 s: room for a cold /init on a busy machine, which the limit covers too.
    doc_id = await harness.put_action("spin", code, limits=ActionLimits(timeout=1500))
    await harness.invoke(doc_id)
    began = time.monotonic()
    stuck = await harness.invoke(doc_id, {"spin": True})
    assert 1.45 < time.monotonic() - began < 8
    assert stuck["response"]["status"] == "action developer error"
    assert stuck["response"]["result"] == {
        "error": "The action exceeded its time limits of 1500 milliseconds."
    }
    assert annotation(stuck, "timeout") is True
    after = await harness.invoke(doc_id)
    assert after["response"]["result"] == {"ok": 1}
    assert annotation(after, "initTime") is not None  # fresh container
    record = await harness.record(stuck["activationId"])
    assert any(line.endswith("stdout: spinning") for line in record["logs"])
    assert record["logs"][-1].endswith(outcomes.LOGS_MISSING)


async def test_logs_over_the_limit_are_truncated(harness: Harness) -> None:
    code = "def main(a):\n    line = 'y' * 1023\n    for i in range(1100):\n        print(line)\n    return {}\n"
    doc_id = await harness.put_action("chatty", code, limits=ActionLimits(logs=1))
    activation = await harness.invoke(doc_id)
    record = await harness.record(activation["activationId"])
    assert len(record["logs"]) == 1024 + 1  # 1024 lines of 1 KiB fit, then the notice
    assert record["logs"][-1].endswith(
        "stderr: Logs were truncated because the total bytes size exceeds the limit of "
        "1048576 bytes."
    )


async def test_zero_log_limit_collects_nothing(harness: Harness) -> None:
    doc_id = await harness.put_action("quiet", HELLO, limits=ActionLimits(logs=0))
    activation = await harness.invoke(doc_id, {"name": "Q"})
    assert (await harness.record(activation["activationId"]))["logs"] == []


async def test_deleted_action(harness: Harness) -> None:
    doc_id = await harness.put_action("gone", HELLO)
    await harness.store.entities.delete(doc_id, harness.revisions[doc_id])
    activation = await harness.invoke(doc_id, version="0.0.7")
    assert activation["response"] == {
        "status": "application error",
        "success": False,
        "result": {"error": "Action could not be found or may have been deleted."},
        "size": 63,
    }
    assert annotation(activation, "kind") == "unknown"
    assert annotation(activation, "path") == "guest/gone"
    assert activation["name"] == "gone" and activation["version"] == "0.0.7"
    assert activation["duration"] == 0
    record = await harness.record(activation["activationId"])
    assert record["response"]["statusCode"] == 1


async def test_updated_action_gets_a_new_container(harness: Harness) -> None:
    doc_id = await harness.put_action("evolve", "def main(a):\n    return {'v': 1}\n")
    assert (await harness.invoke(doc_id))["response"]["result"] == {"v": 1}
    (old,) = harness.live_containers()
    await harness.put_action("evolve", "def main(a):\n    return {'v': 2}\n")
    updated = await harness.invoke(doc_id)
    assert updated["response"]["result"] == {"v": 2}
    assert annotation(updated, "initTime") is not None
    assert old.state in (State.REMOVING, State.REMOVED)
    # A message still naming the old revision is served with the latest code.
    stale = harness.message(doc_id, revision="1")
    await harness.send(stale)
    done = await harness.completion()
    assert done.activation is not None and done.activation["response"]["result"] == {"v": 2}


async def test_environment_and_run_body(harness: Harness) -> None:
    code = (
        "import os\n"
        "def main(a):\n"
        "    env = {k: v for k, v in os.environ.items() if k.startswith('__OW_')}\n"
        "    return {'args': a, 'env': env}\n"
    )
    # New actions get provide-api-key:false from the controller (§1.3.1); an absent
    # annotation means true (older actions).
    plain = await harness.put_action(
        "env", code, annotations=(KeyValue(key="provide-api-key", value=False),)
    )
    keyed = await harness.put_action("envkey", code)
    msg = harness.message(plain, {"x": 1, "secret": "s3"}, init_args=("secret",))
    await harness.send(msg)
    done = await harness.completion()
    assert done.activation is not None
    result = done.activation["response"]["result"]
    assert result["args"] == {"x": 1}  # init params are not /run arguments
    env = result["env"]
    assert env["__OW_NAMESPACE"] == "alice"
    assert env["__OW_ACTION_NAME"] == "/guest/env"
    assert env["__OW_ACTION_VERSION"] == "0.0.1"
    assert env["__OW_ACTIVATION_ID"] == msg.activation_id
    assert env["__OW_TRANSACTION_ID"] == msg.transid
    assert env["__OW_API_HOST"]
    assert int(env["__OW_DEADLINE"]) > time.time() * 1000
    assert "__OW_API_KEY" not in env
    # Init params arrive as environment at /init; the proxy hands them to the action.
    keyed_result = (await harness.invoke(keyed, {"y": 2}))["response"]["result"]
    assert keyed_result["env"]["__OW_API_KEY"] == "uuid-1:key-1"


async def test_packaged_action_binding_and_cause(harness: Harness) -> None:
    doc_id = await harness.put_action("inner", HELLO, namespace="guest/pkg")
    activation = await harness.invoke(
        doc_id, {"name": "P"}, binding="alice/mybinding", cause="c" * 32
    )
    assert annotation(activation, "path") == "guest/pkg/inner"
    assert annotation(activation, "binding") == "alice/mybinding"
    assert annotation(activation, "causedBy") == "sequence"
    assert activation["cause"] == "c" * 32


async def test_array_arguments_and_results(harness: Harness) -> None:
    doc_id = await harness.put_action("arr", "def main(a):\n    return list(reversed(a))\n")
    activation = await harness.invoke(doc_id, [1, 2, 3])
    assert activation["response"]["result"] == [3, 2, 1]


async def test_oversized_result(tmp_path: Path, root: Path) -> None:
    h = await make_harness(tmp_path, root, payload_max=1000)
    try:
        doc_id = await h.put_action("big", "def main(a):\n    return {'x': 'z' * 5000}\n")
        activation = await h.invoke(doc_id)
        assert activation["response"]["status"] == "application error"
        error = activation["response"]["result"]["error"]
        head, _, rest = error.partition(" > 1000 bytes. The truncated response was: ")
        assert head.startswith("The action produced a response that exceeded the allowed length: ")
        assert int(head.rpartition(" ")[2]) > 5000
        assert rest.startswith('{"x":') and len(rest.encode()) == 1000
    finally:
        await close(h)


async def test_memory_budget_evicts_idle_containers(tmp_path: Path, root: Path) -> None:
    """Reservations (`budget=reserved`, OpenWhisk's and Docker's): each container holds its
    whole limit, so 512 MB hold two of 256 MB."""
    url = f"process://{root}?budget=reserved&evict=lru"
    h = await make_harness(tmp_path, root, url, user_memory=512)
    try:
        a = await h.put_action("a", "def main(x):\n    return {'a': 1}\n")
        b = await h.put_action("b", "def main(x):\n    return {'b': 1}\n")
        c = await h.put_action("c", "def main(x):\n    return {'c': 1}\n")
        await h.invoke(a)
        await h.invoke(b)
        assert len(h.live_containers()) == 2
        await h.invoke(c)  # pool full: the least recently used idle container (a) goes
        keys = sorted(p.key.action for p in h.live_containers() if p.state is State.READY)
        assert keys == ["guest/b", "guest/c"]
        warm_b = await h.invoke(b)
        assert annotation(warm_b, "initTime") is None
        cold_a = await h.invoke(a)
        assert annotation(cold_a, "initTime") is not None
    finally:
        await close(h)


async def test_full_pool_buffers_until_a_container_frees(tmp_path: Path, root: Path) -> None:
    h = await make_harness(tmp_path, root, f"process://{root}?budget=reserved", user_memory=256)
    try:
        code = "import time\ndef main(a):\n    time.sleep(0.2)\n    return {'n': a['n']}\n"
        doc_id = await h.put_action("slow", code)
        msgs = [h.message(doc_id, {"n": i}) for i in range(3)]
        for m in msgs:
            await h.send(m)
        done = [await h.completion() for _ in msgs]
        assert [d.activation_id for d in done] == [m.activation_id for m in msgs]  # FIFO
        assert all(d.activation and d.activation["response"]["success"] for d in done)
        cold = [annotation(d.activation, "initTime") is not None for d in done if d.activation]
        assert cold == [True, False, False]  # one container, reused
    finally:
        await close(h)


async def test_measured_budget_keeps_small_actions_warm(tmp_path: Path, root: Path) -> None:
    """By what they really use (the default in process mode), the same 512 MB hold five
    256 MB actions that each use a few tens of MB: a second round finds all of them warm."""
    h = await make_harness(tmp_path, root, user_memory=512)
    try:
        names = [f"small{i}" for i in range(5)]
        docs = [await h.put_action(n, f"def main(x):\n    return {{'n': '{n}'}}\n") for n in names]
        for doc_id in docs:
            assert annotation(await h.invoke(doc_id), "initTime") is not None
            await asyncio.sleep(1.2)  # sampled: the pool has learned what they use
        assert len(h.live_containers()) == 5
        for doc_id in docs:
            assert annotation(await h.invoke(doc_id), "initTime") is None  # warm
    finally:
        await close(h)


async def test_booted_spares_give_their_memory_to_an_action_that_needs_it(
    tmp_path: Path, root: Path
) -> None:
    """Reservations of 256 MB in 256 MB: the booted spares' memory is counted, so the action
    runs only once they are given up, and none is booted again while its container holds the
    budget (before, they stayed on beside it, outside the budget)."""
    url = f"process://{root}?budget=reserved"
    h = await make_harness(tmp_path, root, url, user_memory=256)
    try:
        factory = h.invoker.factory
        assert isinstance(factory, ProcessContainerFactory)
        if factory.cgroups is None or not factory.booted:
            pytest.skip("needs the sandbox's cgroups and booted spares (root)")
        held = h.invoker.pool.held()
        assert held > 0 and abs(held - factory.held_memory()) <= 3  # read a moment apart
        doc_id = await h.put_action("big", HELLO, limits=ActionLimits(memory=256))
        done = await h.invoke(doc_id, {"name": "x"})
        assert done["response"]["result"] == {"greeting": "Hello x"}
        await asyncio.sleep(REFILL_DELAY + 0.2)  # when its spare's replacement would come
        await factory.spares_made()
        assert factory.booted == ()
    finally:
        await close(h)


HOG = """import time
def main(a):
    hog = bytearray(a['mb'] * 1024 * 1024)
    for i in range(0, len(hog), 4096):
        hog[i] = 1
    time.sleep(a.get('hold', 0))
    return {'held': a['mb']}
"""


async def test_a_growing_container_evicts_idle_ones_and_the_cap_still_holds(
    tmp_path: Path, root: Path
) -> None:
    """An action that grows past what the pool budgeted for it makes room by evicting idle
    containers (not by the kernel's OOM killer picking one); one that grows past its own
    memory limit is still stopped by it and reported as before."""
    h = await make_harness(tmp_path, root, user_memory=384)
    try:
        if getattr(h.invoker.factory, "cgroups", None) is None:
            pytest.skip("needs the sandbox's cgroups (root)")
        docs = [await h.put_action(f"idle{i}", HELLO) for i in range(3)]
        for doc_id in docs:
            await h.invoke(doc_id)
        idle = list(h.live_containers())
        assert len(idle) == 3
        hog = await h.put_action("hog", HOG, limits=ActionLimits(memory=384))
        held = await h.invoke(hog, {"mb": 330, "hold": 2.5})  # sampled while it holds them
        assert held["response"]["result"] == {"held": 330}
        gone = [p for p in idle if p.state is State.REMOVED]
        assert 1 <= len(gone) < 3  # the least worth keeping went, as many as needed
        too_much = await h.invoke(hog, {"mb": 400})
        assert too_much["response"]["result"] == {"error": outcomes.MEMORY_EXHAUSTED}
    finally:
        await close(h)


class SlowFirstCompletion(MemoryQueue):
    """A queue whose first completion send takes a broker round trip longer than the rest,
    as Kafka's batching makes sends of very different latency."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = True

    async def publish(self, topic: str, message: Message) -> None:
        # How the invoker sends its completions (as objects, in-process).
        if topic.startswith("completed") and self.slow:
            self.slow = False
            await asyncio.sleep(0.3)
        await super().publish(topic, message)


async def test_each_record_gets_its_own_logs_whatever_the_completion_latency(
    tmp_path: Path, root: Path
) -> None:
    """Two activations back to back in one container: the second runs while the first's
    completion is still being sent, and its logs must not be taken for the first's."""
    config = Settings(data_dir=tmp_path, user_memory=256)
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    queue = SlowFirstCompletion()
    completions = await queue.consumer("completed0", "test")
    factory = factory_from_url(f"process://{root}", config)
    invoker = Invoker(config, store, queue, factory, 0, prewarm=False)
    await invoker.start()
    h = Harness(store, queue, invoker, completions)
    try:
        doc_id = await h.put_action(
            "say", "def main(a):\n    print('run', a['n'])\n    return {}\n"
        )
        msgs = [h.message(doc_id, {"n": i}) for i in range(2)]
        for m in msgs:
            await h.send(m)
        for _ in msgs:
            await h.completion()
        for i, m in enumerate(msgs):
            logs = (await h.record(m.activation_id))["logs"]
            assert [line.split("stdout: ")[1] for line in logs] == [f"run {i}"], logs
    finally:
        await close(h)


async def test_action_bigger_than_the_invoker(tmp_path: Path, root: Path) -> None:
    h = await make_harness(tmp_path, root, user_memory=128)
    try:
        doc_id = await h.put_action("huge", HELLO, limits=ActionLimits(memory=256))
        msg = h.message(doc_id)
        await h.send(msg)
        done = await h.completion()
        assert done.system_error and done.activation is not None
        assert done.activation["response"]["result"] == {"error": outcomes.PROVISION_FAILED}
    finally:
        await close(h)


async def test_missing_interpreter_is_a_developer_error(tmp_path: Path, root: Path) -> None:
    url = f"process://{root}?path=/nonexistent&python=/usr/bin/python3"
    h = await make_harness(tmp_path, root, containers_url=url)
    try:
        doc_id = await h.put_action("nopython", HELLO)
        activation = await h.invoke(doc_id)
        assert activation["response"]["status"] == "action developer error"
        assert activation["response"]["result"] == {
            "error": "The python:3.11 runtime needs the 'python3' command, which is not "
            "installed on this invoker (apt-get install python3)."
        }
    finally:
        await close(h)


async def test_idle_containers_expire(tmp_path: Path, root: Path) -> None:
    h = await make_harness(tmp_path, root, idle_timeout=0.3)
    try:
        doc_id = await h.put_action("idle", HELLO)
        await h.invoke(doc_id)
        (proxy,) = h.live_containers()
        await asyncio.sleep(0.6)
        await proxy.removed()
        assert proxy.state is State.REMOVED and h.invoker.pool.entries == []
        assert annotation(await h.invoke(doc_id), "initTime") is not None
    finally:
        await close(h)


async def test_stop_destroys_every_container(tmp_path: Path, root: Path) -> None:
    h = await make_harness(tmp_path, root)
    try:
        doc_id = await h.put_action("hello", HELLO)
        await h.invoke(doc_id, {"name": "warm"})
        slow = await h.put_action(
            "slow", "import time\ndef main(a):\n    time.sleep(0.3)\n    return {}\n"
        )
        await h.send(h.message(slow))
        # Wait for the slow one's container to exist, however loaded the machine is.
        await wait_until_async(
            lambda: any(
                isinstance(p.container, ProcessContainer) and p.key.action == slow
                for p in h.invoker.pool.entries
            ),
            "the slow action's container",
            timeout=10,
            interval=0.01,
        )
        proxies = list(h.invoker.pool.entries)
        pids = [p.container.pid for p in proxies if isinstance(p.container, ProcessContainer)]
        assert len(pids) == 2
    finally:
        await close(h)  # drains the slow activation first
    assert all(p.state is State.REMOVED for p in proxies)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_a_taken_stem_cell_is_replaced_once_its_first_invoke_is_answered(
    tmp_path: Path, root: Path
) -> None:
    """A stem cell's replacement starts `stem_refill_delay` after the stem cell was taken:
    the first invoke that took it is answered before another container is made beside it."""
    h = await make_harness(tmp_path, root, prewarm=True, stem_refill_delay=1.0)
    try:
        await wait_until_async(
            lambda: [(p.state, p.memory) for p in h.invoker.pool.stems],
            "a prewarmed 256 MB stem cell",
            timeout=10,
            interval=0.02,
            until=lambda stems: (State.PREWARMED, 256) in stems,
        )
        await asyncio.sleep(0.3)  # every kind's stem cell made
        stems_before = set(h.invoker.pool.stems)
        doc_id = await h.put_action("hello", HELLO)
        taken = time.monotonic()
        activation = await h.invoke(doc_id, {"name": "R"})
        assert annotation(activation, "initTime") is not None
        (adopted,) = h.live_containers()
        assert adopted in stems_before
        # Answered: no replacement yet, nor one being made.
        assert set(h.invoker.pool.stems) == stems_before - {adopted}
        assert len(h.invoker.factory._containers) == len(stems_before)  # type: ignore[attr-defined]
        await wait_until_async(
            lambda: len(h.invoker.pool.stems),
            "the adopted stem cell replaced",
            timeout=10,
            interval=0.02,
            until=lambda count: count == len(stems_before),
        )
        assert time.monotonic() - taken >= 1.0
    finally:
        await close(h)


async def test_stem_cells_make_cold_starts_cheap(tmp_path: Path, root: Path) -> None:
    """runtimes.json asks for one python:3.11 stem cell at 256 MB: a cold start adopts it
    (only /init is paid) and a replacement is started."""
    h = await make_harness(tmp_path, root, prewarm=True)
    try:
        await wait_until_async(
            lambda: [(p.state, p.memory) for p in h.invoker.pool.stems],
            "a prewarmed 256 MB stem cell",
            timeout=10,
            interval=0.02,
            until=lambda stems: (State.PREWARMED, 256) in stems,
        )
        assert h.invoker.pool.entries == []  # stem cells are not action containers
        await asyncio.sleep(0.3)  # let the runtimes finish booting, as they have in real life
        stems_before = set(h.invoker.pool.stems)  # every kind's, not just the first ready
        doc_id = await h.put_action("hello", HELLO)
        activation = await h.invoke(doc_id, {"name": "S"})
        assert activation["response"]["result"] == {"greeting": "Hello S"}
        assert annotation(activation, "initTime") is not None  # a cold start: /init was paid
        (adopted,) = h.live_containers()
        assert adopted in stems_before and adopted.key.action == "guest/hello"
        await wait_until_async(
            lambda: len(h.invoker.pool.stems),
            f"the adopted stem cell replaced ({len(stems_before)} stem cells)",
            timeout=10,
            interval=0.02,
            until=lambda count: count >= len(stems_before),
        )
        assert adopted not in h.invoker.pool.stems
    finally:
        await close(h)
