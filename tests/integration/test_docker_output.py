"""Docker containers' output through their own FIFOs (invoker/containers/docker_output.py),
through the real Invoker and the real engine: every line of an activation in its record, in
order, with its stream and time, also when the action crashes or its container is killed
mid-output; the engine relays none of it; and a container can reach its own output channel
only, write-only.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import docker as docker_sdk
import pytest

from pywhisk.invoker import outcomes
from pywhisk.invoker.containers.docker import DockerContainer
from pywhisk.invoker.containers.docker_attach import release
from pywhisk.invoker.containers.docker_output import ACTION_UID, MOUNT
from pywhisk.invoker.proxy import State
from tests.support.docker import docker, inspect
from tests.support.docker_harness import DockerHarness, close, make
from tests.support.polling import wait_until_async

LINES = 3000

CHATTY = f"""\
import sys

def main(args):
    for i in range({LINES}):
        print("out", i, flush=True)
        if i % 10 == 0:
            print("err", i, file=sys.stderr, flush=True)
    return {{"printed": {LINES}}}
"""

CRASHING = """\
import os, sys

def main(args):
    for i in range(1000):
        print("line", i, flush=True)
    sys.stdout.write("last words without a newline")
    sys.stdout.flush()
    os._exit(3)
"""

STREAMING = """\
import time

def main(args):
    i = 0
    while True:
        print("line", i, flush=True)
        i += 1
        time.sleep(0.001)
"""

PROBE = f"""\
import os

def attempt(what):
    try:
        what()
        return "done"
    except OSError as exc:
        return exc.strerror

def main(args):
    mine = "{MOUNT}"
    fd = os.open(mine + "/stdout", os.O_WRONLY)
    os.write(fd, b"written into my own channel\\n")
    os.close(fd)
    return {{
        "uid": os.getuid(),
        "listing": sorted(os.listdir(mine)),
        "other's channel": attempt(lambda: os.open(args["other"], os.O_WRONLY | os.O_NONBLOCK)),
        "other's directory": attempt(lambda: os.listdir(os.path.dirname(args["other"]))),
        "read my channel": attempt(lambda: os.open(mine + "/stdout", os.O_RDONLY | os.O_NONBLOCK)),
        "new file": attempt(lambda: open(mine + "/new", "w").close()),
        "chmod": attempt(lambda: os.chmod(mine + "/stdout", 0o666)),
        "replace": attempt(lambda: os.rename(mine + "/stdout", mine + "/old")),
    }}
"""


@pytest.fixture
async def harness(tmp_path: Any) -> AsyncIterator[DockerHarness]:
    h = await make(tmp_path, pause_grace=0)
    yield h
    await close(h)


def messages(logs: list[str], stream: str) -> list[str]:
    return [line[31:].removeprefix(f"{stream}: ") for line in logs if line[31:].startswith(stream)]


def container_of(harness: DockerHarness, doc_id: str) -> DockerContainer:
    (proxy,) = harness.proxies(doc_id)
    assert isinstance(proxy.container, DockerContainer)
    return proxy.container


def engine_relays(container_id: str, seconds: float) -> bytes:
    """What the engine's attach stream of the container carries within `seconds`."""
    client = docker_sdk.from_env()
    try:
        raw = client.api.attach_socket(container_id, params={"stdout": 1, "stderr": 1, "stream": 1})
        sock: socket.socket = raw._sock
        sock.settimeout(0.1)
        received = b""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            received += data
        release(raw)
        return received
    finally:
        client.close()


async def test_logs_arrive_complete_in_order_and_not_through_the_engine(
    harness: DockerHarness,
) -> None:
    doc_id = await harness.put_action("chatty", CHATTY)
    first = await harness.invoke(doc_id)
    container = container_of(harness, doc_id)
    # Listen to the engine's own stream of the container while the next activation prints.
    relayed = asyncio.create_task(asyncio.to_thread(engine_relays, container.id, 3.0))
    await asyncio.sleep(0.5)  # attached
    second = await harness.invoke(doc_id)
    assert await relayed == b"", "the engine relayed the action's output"
    for activation in (first, second):
        assert activation["response"]["result"] == {"printed": LINES}
        logs = (await harness.record(activation["activationId"]))["logs"]
        assert messages(logs, "stdout") == [f"out {i}" for i in range(LINES)]
        assert messages(logs, "stderr") == [f"err {i}" for i in range(0, LINES, 10)]
        assert len(logs) == LINES + LINES // 10  # nothing else: no sentinel, no other run's
        times = [line[:30] for line in logs]
        assert times == sorted(times) and all(t.endswith("Z") for t in times)


async def test_logs_of_an_action_that_crashes_mid_output(harness: DockerHarness) -> None:
    doc_id = await harness.put_action("crashing", CRASHING)
    crashed = await harness.invoke(doc_id)
    assert crashed["response"]["status"] == "action developer error"
    assert crashed["response"]["result"] == {"error": outcomes.ABNORMAL_RUN}
    logs = (await harness.record(crashed["activationId"]))["logs"]
    assert messages(logs, "stdout") == [
        *(f"line {i}" for i in range(1000)),
        "last words without a newline",
    ]


async def test_logs_of_a_container_killed_mid_output(harness: DockerHarness) -> None:
    """Every line written before the kill is in the record, in order, none lost between."""
    doc_id = await harness.put_action("hello", "def main(a):\n    return {}\n")
    await harness.invoke(doc_id)
    doc_id = await harness.put_action("streaming", STREAMING)
    msg = harness.message(doc_id)
    await harness.send(msg)
    await wait_until_async(
        lambda: [p.state for p in harness.proxies(doc_id)],
        "the streaming action busy",
        timeout=10,
        interval=0.01,
        until=lambda states: State.BUSY in states,
    )
    await asyncio.sleep(0.5)
    await asyncio.to_thread(docker, "kill", container_of(harness, doc_id).id)
    done = await harness.completion()
    assert done.activation is not None
    assert done.activation["response"]["result"] == {"error": outcomes.ABNORMAL_RUN}
    logs = (await harness.record(msg.activation_id))["logs"]
    assert logs[-1].endswith(outcomes.LOGS_MISSING)
    printed = messages(logs[:-1], "stdout")
    assert len(printed) > 10
    assert printed == [f"line {i}" for i in range(len(printed))]


async def test_a_container_reaches_only_its_own_output_channel(harness: DockerHarness) -> None:
    other_id = await harness.put_action(
        "other", "def main(a):\n    print('other ran')\n    return {}\n"
    )
    await harness.invoke(other_id)
    other = container_of(harness, other_id)
    (other_mount,) = (await asyncio.to_thread(inspect, other.id))["Mounts"]
    other_fifo = other_mount["Source"] + "/stdout"

    probe_id = await harness.put_action("probe", PROBE)
    probe = await harness.invoke(probe_id, {"other": other_fifo})
    assert probe["response"]["result"] == {
        "uid": ACTION_UID,
        "listing": ["stderr", "stdout"],
        "other's channel": "No such file or directory",
        "other's directory": "No such file or directory",
        "read my channel": "Permission denied",
        "new file": "Read-only file system",
        "chmod": "Read-only file system",
        "replace": "Read-only file system",
    }
    logs = (await harness.record(probe["activationId"]))["logs"]
    assert messages(logs, "stdout") == ["written into my own channel"]
    # The only mount of the host in either container: its own directory, read-only.
    mine = container_of(harness, probe_id)
    (mount,) = (await asyncio.to_thread(inspect, mine.id))["Mounts"]
    assert (mount["Destination"], mount["RW"]) == (MOUNT, False)
    assert mount["Source"] != other_mount["Source"]
    assert (other_mount["Destination"], other_mount["RW"]) == (MOUNT, False)
    again = await harness.invoke(other_id)
    assert messages((await harness.record(again["activationId"]))["logs"], "stdout") == [
        "other ran"
    ]
