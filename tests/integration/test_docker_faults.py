"""Docker containers through the real Invoker (SqliteStore, MemoryQueue, `docker://`): limits,
faults, blackbox images, keep-alive pausing, leftovers and stem cells, against the real
engine. Every container a test starts is gone when it ends (checked by label).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities.action import Action, Exec
from pywhisk.common.entities.limits import ActionLimits
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.runtimes import default_manifest
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.invoker import outcomes
from pywhisk.invoker.containers.base import ContainerError, factory_from_url
from pywhisk.invoker.containers.docker import DockerContainer, DockerContainerFactory, pull_failed
from pywhisk.invoker.containers.process import BLACKBOX_NEEDS_DOCKER
from pywhisk.invoker.proxy import ContainerProxy, State
from pywhisk.invoker.service import Invoker
from tests.support.docker import TEST_INVOKER_ID, containers, docker, inspect, runtime_images
from tests.support.docker_harness import INSTALLATION, MINE, DockerHarness, close, make
from tests.support.invoker import HELLO, Harness, annotation
from tests.support.invoker import close as close_harness
from tests.support.polling import wait_until_async

OURS = f"pywhisk.invoker={TEST_INVOKER_ID}"
BLACKBOX_IMAGE = "pywhisk-test/blackbox:latest"

SLEEPER = (
    "import time\n"
    "def main(a):\n"
    "    if a.get('sleep'):\n"
    "        print('sleeping', flush=True)\n"
    "        time.sleep(a['sleep'])\n"
    "    return {'ok': True}\n"
)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[DockerHarness]:
    h = await make(tmp_path, pause_grace=0)
    yield h
    await close(h)


async def gone(container_id: str) -> bool:
    out = await asyncio.to_thread(
        docker, "ps", "-aq", "--no-trunc", "--filter", f"id={container_id}"
    )
    return out.strip() == ""


# -- limits -----------------------------------------------------------------------------------


async def test_memory_hog_is_killed_and_told_so(harness: DockerHarness) -> None:
    code = (
        "def main(a):\n"
        "    if a.get('hog'):\n"
        "        print('eating', flush=True)\n"
        "        chunks = [b'x' * (8 << 20) for _ in range(64)]  # 512 MB\n"
        "        return {'ate': len(chunks)}\n"
        "    return {'ok': True}\n"
    )
    doc_id = await harness.put_action("hog", code, limits=ActionLimits(memory=128))
    assert (await harness.invoke(doc_id))["response"]["result"] == {"ok": True}
    began = time.monotonic()
    hog = await harness.invoke(doc_id, {"hog": True})
    assert time.monotonic() - began < 5
    assert hog["response"]["status"] == "action developer error"
    assert hog["response"]["result"] == {"error": outcomes.MEMORY_EXHAUSTED}
    record = await harness.record(hog["activationId"])
    assert record["response"]["result"] == {"error": outcomes.MEMORY_EXHAUSTED}
    assert any(line.endswith("stdout: eating") for line in record["logs"])
    after = await harness.invoke(doc_id)
    assert after["response"]["result"] == {"ok": True}
    assert annotation(after, "initTime") is not None  # a fresh container


async def test_runaway_is_stopped_at_its_timeout_and_removed(harness: DockerHarness) -> None:
    code = "def main(a):\n    while a.get('spin'):\n        pass\n    return {'ok': 1}\n"
    doc_id = await harness.put_action("spin", code, limits=ActionLimits(timeout=1000))
    await harness.invoke(doc_id)
    (proxy,) = harness.proxies(doc_id)
    assert isinstance(proxy.container, DockerContainer)
    container_id = proxy.container.id
    began = time.monotonic()
    stuck = await harness.invoke(doc_id, {"spin": True})
    assert 0.95 < time.monotonic() - began < 3
    assert stuck["response"]["result"] == {
        "error": "The action exceeded its time limits of 1000 milliseconds."
    }
    assert annotation(stuck, "timeout") is True
    await proxy.removed()
    assert await gone(container_id)
    after = await harness.invoke(doc_id)
    assert after["response"]["result"] == {"ok": 1}
    assert annotation(after, "initTime") is not None


# -- faults -----------------------------------------------------------------------------------


async def test_killed_mid_activation_is_a_developer_error_at_once(harness: DockerHarness) -> None:
    doc_id = await harness.put_action("sleeper", SLEEPER)
    await harness.invoke(doc_id)
    (proxy,) = harness.proxies(doc_id)
    assert isinstance(proxy.container, DockerContainer)
    msg = harness.message(doc_id, {"sleep": 30})
    await harness.send(msg)
    await wait_until_async(
        lambda: proxy.state,
        "the sleeper busy",
        timeout=10,
        interval=0.01,
        until=lambda state: state is State.BUSY,
    )
    await asyncio.sleep(0.2)
    began = time.monotonic()
    await asyncio.to_thread(docker, "kill", proxy.container.id)
    done = await harness.completion()
    assert time.monotonic() - began < 2
    assert done.activation is not None and done.activation_id == msg.activation_id
    assert done.activation["response"]["status"] == "action developer error"
    assert done.activation["response"]["result"] == {"error": outcomes.ABNORMAL_RUN}
    record = await harness.record(msg.activation_id)
    assert any(line.endswith("stdout: sleeping") for line in record["logs"])
    assert record["logs"][-1].endswith(outcomes.LOGS_MISSING)
    after = await harness.invoke(doc_id)
    assert after["response"]["result"] == {"ok": True}
    assert annotation(after, "initTime") is not None
    await proxy.removed()
    assert await gone(proxy.container.id)


async def test_idle_container_killed_from_outside_is_replaced(harness: DockerHarness) -> None:
    doc_id = await harness.put_action("hello", HELLO)
    await harness.invoke(doc_id, {"name": "a"})
    (proxy,) = harness.proxies(doc_id)
    killed = proxy.container
    assert isinstance(killed, DockerContainer)
    await asyncio.to_thread(docker, "kill", killed.id)
    await wait_until_async(
        lambda: killed.exited, "the killed container seen exited", timeout=5, interval=0.01
    )
    again = await harness.invoke(doc_id, {"name": "b"})
    assert again["response"]["result"] == {"greeting": "Hello b"}
    assert annotation(again, "initTime") is not None


async def test_engine_down_at_start_names_the_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "no-dockerd.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    began = time.monotonic()
    with pytest.raises(ContainerError) as info:
        await make(tmp_path, images=False)
    assert time.monotonic() - began < 5
    message = str(info.value)
    assert message.startswith(f"Cannot reach the Docker engine at DOCKER_HOST=unix://{socket_path}")
    assert "dockerd" in message and "PYWHISK_CONTAINERS_URL=process://" in message


async def test_leftovers_of_a_dead_invoker_are_removed_at_start(tmp_path: Path) -> None:
    """A container with our invoker id whose owner process is gone is removed; one whose
    owner is alive (another invoker with the same id on this engine) is left alone, and our
    names then stop colliding with its."""
    await asyncio.to_thread(runtime_images)
    image = "pywhisk/action-python-v3.11:latest"
    live_owner = DockerContainerFactory("docker://", Settings(), TEST_INVOKER_ID).owner

    def run(name: str, owner: str) -> str:
        labels = [OURS, f"pywhisk.owner={owner}", f"pywhisk.installation={INSTALLATION}"]
        flags = [arg for label in labels for arg in ("--label", label)]
        return docker("create", "--name", f"{INSTALLATION}_{name}", *flags, image).strip()

    dead = await asyncio.to_thread(run, f"wsk{TEST_INVOKER_ID}_0", "gone-host/1/1")
    live = await asyncio.to_thread(run, f"wsk{TEST_INVOKER_ID}_1", live_owner)
    try:
        h = await make(tmp_path)
        try:
            assert await gone(dead)
            assert not await gone(live)
            doc_id = await h.put_action("hello", HELLO)  # wsk77_0 is free again, wsk77_1 not
            await h.invoke(doc_id, {"name": "x"})
            await h.invoke(doc_id, {"name": "y"})
        finally:
            await h.invoker.stop()
            await h.completions.close()
            await h.queue.close()
            await h.store.close()
    finally:
        await asyncio.to_thread(docker, "rm", "-f", live, check=False)
    assert await asyncio.to_thread(containers, MINE) == []


async def test_stop_removes_every_container(tmp_path: Path) -> None:
    h = await make(tmp_path, prewarm=True)
    try:
        doc_id = await h.put_action("hello", HELLO)
        msgs = [h.message(doc_id, {"name": str(i)}) for i in range(2)]
        for msg in msgs:
            await h.send(msg)
        done = {(await h.completion()).activation_id for _ in msgs}
        assert done == {msg.activation_id for msg in msgs}
        assert len(await asyncio.to_thread(containers, MINE)) >= 2
    finally:
        await close(h)  # asserts nothing is left


# -- blackbox ---------------------------------------------------------------------------------

BLACKBOX_SERVER = """\
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
code = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global code
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/init":
            code = body["value"].get("code")
            reply = {"ok": True}
        else:
            print("blackbox got", json.dumps(body["value"]), flush=True)
            reply = {"image": "blackbox", "args": body["value"], "code": code,
                     "api_host": os.environ.get("__OW_API_HOST")}
            for stream in (sys.stdout, sys.stderr):
                print(SENTINEL, file=stream, flush=True)
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
"""


@pytest.fixture(scope="module")
def blackbox_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Any image that speaks /init and /run on 8080 will do: a dozen lines of stdlib here."""
    runtime_images()  # the base image it is built from
    context = tmp_path_factory.mktemp("blackbox")
    (context / "server.py").write_text(BLACKBOX_SERVER)
    (context / "Dockerfile").write_text(
        'FROM pywhisk/base:bookworm\nCOPY server.py /server.py\nCMD ["python3", "-u", "/server.py"]\n'
    )
    subprocess.run(
        ["docker", "build", "-q", "-t", BLACKBOX_IMAGE, str(context)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield BLACKBOX_IMAGE
    docker("rmi", "-f", BLACKBOX_IMAGE, check=False)


async def test_blackbox_action_runs_its_image(harness: DockerHarness, blackbox_image: str) -> None:
    doc_id = await harness.put_blackbox("box", blackbox_image, code="echo hi")
    activation = await harness.invoke(doc_id, {"n": 1})
    assert activation["response"]["status"] == "success"
    assert activation["response"]["result"] == {
        "image": "blackbox",
        "args": {"n": 1},
        "code": "echo hi",
        "api_host": Settings().effective_api_host,
    }
    assert annotation(activation, "kind") == "blackbox"
    warm = await harness.invoke(doc_id, {"n": 2})
    assert warm["response"]["result"]["args"] == {"n": 2}
    assert annotation(warm, "initTime") is None
    record = await harness.record(warm["activationId"])
    assert [line[31:] for line in record["logs"]] == ['stdout: blackbox got {"n": 2}']


async def test_blackbox_image_that_cannot_be_pulled(harness: DockerHarness) -> None:
    image = "pywhisk-test/no-such-image:latest"
    doc_id = await harness.put_blackbox("nobox", image)
    activation = await harness.invoke(doc_id)
    assert activation["response"]["status"] == "action developer error"
    assert activation["response"]["result"] == {"error": pull_failed(image)}
    assert pull_failed(image) == f"Failed to pull container image '{image}'."


async def test_blackbox_needs_docker_in_process_mode(tmp_path: Path) -> None:
    config = Settings(data_dir=tmp_path)
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    queue = MemoryQueue()
    await queue.open()
    completions = await queue.consumer("completed0", "test")
    root = Path(tempfile.mkdtemp(prefix="pywhisk-test-"))  # reachable by `nobody`
    root.chmod(0o711)  # noqa: ASYNC240 - test set-up
    invoker = Invoker(config, store, queue, factory_from_url(f"process://{root}", config), 0)
    await invoker.start()
    h = Harness(store, queue, invoker, completions)
    try:
        action = Action(namespace="guest", name="box", exec=Exec(kind="blackbox", image="x/y"))
        h.revisions[action.doc_id] = await store.entities.put(
            action.doc_id, {**action.to_json(), "entityType": "action"}, None
        )
        activation = await h.invoke(action.doc_id)
        assert activation["response"]["status"] == "action developer error"
        assert activation["response"]["result"] == {"error": BLACKBOX_NEEDS_DOCKER}
    finally:
        await close_harness(h)
        shutil.rmtree(root, ignore_errors=True)


# -- keep-alive -------------------------------------------------------------------------------


async def test_idle_container_is_paused_and_resumed_on_use(tmp_path: Path) -> None:
    h = await make(tmp_path, pause_grace=0.3)
    try:
        doc_id = await h.put_action("hello", HELLO)
        await h.invoke(doc_id, {"name": "a"})
        (proxy,) = h.proxies(doc_id)
        assert isinstance(proxy.container, DockerContainer)
        container_id = proxy.container.id
        await wait_until_async(
            lambda: asyncio.to_thread(inspect, container_id),
            "the idle container paused, as the engine reports it",
            timeout=5,
            until=lambda seen: seen["State"]["Paused"],
        )
        assert proxy.state is State.PAUSED
        began = time.monotonic()
        again = await h.invoke(doc_id, {"name": "b"})
        resumed_in = time.monotonic() - began
        assert again["response"]["result"] == {"greeting": "Hello b"}
        assert annotation(again, "initTime") is None  # the same container, resumed
        assert h.proxies(doc_id) == [proxy]
        state = (await asyncio.to_thread(inspect, container_id))["State"]
        assert state["Running"] and not state["Paused"]
        print(f"\nfirst invoke after a pause: {resumed_in * 1000:.1f} ms")
        await wait_until_async(  # paused again; shutting down removes it all the same
            lambda: proxy.state,
            "the container paused again",
            timeout=5,
            until=lambda state: state is State.PAUSED,
        )
    finally:
        await close(h)


# -- stem cells and cold starts ---------------------------------------------------------------


async def test_stem_cells_in_docker_mode(tmp_path: Path) -> None:
    """Stem cells are Docker containers too: the first invoke of a python action adopts one
    and pays /init only; an action of a memory size no stem cell has takes the replacement
    stem cell too, resized in place (`docker update`) rather than a new container."""
    h = await make(tmp_path, prewarm=True)
    try:
        stems = await _ready_stems(h)
        assert all(isinstance(p.container, DockerContainer) for p in stems)
        doc_id = await h.put_action("hello", HELLO)
        began = time.monotonic()
        adopted = await h.invoke(doc_id, {"name": "S"})
        on_stem = time.monotonic() - began
        assert adopted["response"]["result"] == {"greeting": "Hello S"}
        (proxy,) = h.proxies(doc_id)
        assert proxy in stems
        stems = await _ready_stems(h)  # the one taken is replaced
        small_id = await h.put_action("small", HELLO, limits=ActionLimits(memory=128))
        began = time.monotonic()
        small = await h.invoke(small_id, {"name": "C"})
        resized_start = time.monotonic() - began
        assert small["response"]["result"] == {"greeting": "Hello C"}
        (resized,) = h.proxies(small_id)
        assert resized in stems and resized.memory == 128
        assert isinstance(resized.container, DockerContainer)
        limits = (await asyncio.to_thread(inspect, resized.container.id))["HostConfig"]
        assert limits["Memory"] == limits["MemorySwap"] == 128 * 1024 * 1024
        print(
            f"\nfirst invoke on a stem cell: {on_stem * 1000:.1f} ms "
            f"(initTime {annotation(adopted, 'initTime')} ms); on a resized stem cell: "
            f"{resized_start * 1000:.1f} ms (initTime {annotation(small, 'initTime')} ms)"
        )
    finally:
        await close(h)


async def _ready_stems(h: DockerHarness) -> set[ContainerProxy]:
    """The stem cells, once every one runtimes.json asks for has started and had time to boot."""
    manifest = default_manifest()
    wanted = sum(
        count
        for kind in manifest.kinds
        if (runtime := manifest.resolve(kind)) is not None
        for count, _memory in runtime.stem_cells
    )

    def started() -> list[ContainerProxy]:
        return [
            p
            for p in h.invoker.pool.stems
            if p.state is State.PREWARMED and p.container is not None
        ]

    await wait_until_async(
        lambda: len(started()),
        f"the {wanted} stem cells runtimes.json asks for, started",
        timeout=30,
        interval=0.02,
        until=lambda count: count >= wanted,
    )
    await asyncio.sleep(0.5)  # let the runtimes finish booting, as they have in real life
    return set(h.invoker.pool.stems)


def test_standalone_with_no_engine_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYWHISK_")},
        "DOCKER_HOST": f"unix://{tmp_path / 'no-dockerd.sock'}",
        "PYWHISK_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        ["pywhisk", "standalone", "--containers", "docker", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: Cannot reach the Docker engine at DOCKER_HOST=unix://")
    assert "Traceback" not in done.stderr
