"""Booted spares: sandboxes made ahead with a language's runtime already running in them,
adopted by a new action's container (real bwrap, cgroups, uids and interpreters)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.process import ProcessContainer
from tests.support.polling import wait_until_async
from tests.support.prerequisites import program, require
from tests.support.process_factories import command_names, runtime, sandbox_root, started

require(os.geteuid() == 0, "booted spares hold a uid and cgroups of their own: root only")

# Each action answers with what it can see of its sandbox: its uid, hostname, pids.
CODE = {
    "python:3.11": (
        "import os, socket\n"
        "def main(a):\n"
        "    pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "    return {'uid': os.getuid(), 'host': socket.gethostname(), 'pids': pids}\n"
    ),
    "nodejs:20": (
        "const fs = require('fs'), os = require('os');\n"
        "function main(a) {\n"
        "  const pids = fs.readdirSync('/proc').filter(p => /^\\d+$/.test(p)).map(Number);\n"
        "  return {uid: process.getuid(), host: os.hostname(), pids: pids.sort((x, y) => x - y)};\n"
        "}\n"
    ),
    "php:8.2": (
        "<?php\nfunction main(array $a): array {\n"
        "  $pids = array_map('intval', array_values(array_filter(scandir('/proc'), 'ctype_digit')));\n"
        "  sort($pids);\n"
        "  return ['uid' => posix_getuid(), 'host' => gethostname(), 'pids' => $pids];\n}\n"
    ),
}


@pytest.fixture
def root() -> Iterator[Path]:
    program("bwrap", "bubblewrap")
    for command in ("node", "php"):
        program(command, command)
    yield from sandbox_root()


async def run_once(container: ProcessContainer, code: str) -> dict[str, object]:
    client = ContainerClient("localhost", 0, 1 << 20, unix_path=container.socket_path)
    try:
        init = {"value": {"name": "t", "main": "main", "code": code, "binary": False, "env": {}}}
        assert (await client.init(json.dumps(init).encode(), 10_000)).response is None
        body = {"value": {}, "activation_id": "a" * 32, "deadline": "0"}
        reply = await client.run(json.dumps(body).encode(), 10_000)
        assert reply.response is not None
        result = reply.response.result
        assert isinstance(result, dict), result
        return result
    finally:
        await client.close()


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += [
            int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
        ]
    return found


async def test_each_language_has_a_booted_spare_isolated_as_any_sandbox(root: Path) -> None:
    async with started(f"process://{root}") as factory:
        booted = {spare.booted[0]: spare for spare in factory.booted if spare.booted}
        assert set(booted) == {"python", "nodejs", "php"}
        uids = {spare.uid for spare in factory.booted} | {s.uid for s in factory.spares}
        assert len(uids) == 5 and None not in uids  # a uid of its own each
        launchers = {"python": "python3", "nodejs": "node", "php": "php"}
        for language, spare in booted.items():
            # bwrap outside, the sandbox's init, the proxy and its launcher: already running.
            names = command_names(spare.held.proc.pid)
            assert names[:3] == ["bwrap", "bwrap", "python3"], names
            assert names[3].startswith(launchers[language]), names  # php8.2, node, python3
            inside = tree(spare.held.child)
            assert len(inside) == 3, names  # init, proxy, launcher
            # Every one in the spare's cgroups, running as its uid, in its own pid namespace.
            assert spare.cgroup is not None
            assert sorted(spare.cgroup.tasks()) == sorted(inside)
            host_pidns = os.readlink("/proc/self/ns/pid")
            for pid in inside:
                assert os.stat(f"/proc/{pid}").st_uid == spare.uid
                assert os.readlink(f"/proc/{pid}/ns/pid") != host_pidns


@pytest.mark.parametrize("kind", list(CODE))
async def test_a_new_action_takes_its_languages_booted_spare(root: Path, kind: str) -> None:
    async with started(f"process://{root}") as factory:
        language = runtime(kind).language
        (spare,) = [s for s in factory.booted if s.booted and s.booted[0] == language]
        container = await factory.create("wsk0_b", runtime(kind), 512)
        assert isinstance(container, ProcessContainer)
        try:
            assert container.directory == spare.directory and container.uid == spare.uid
            answer = await run_once(container, CODE[kind])
            # Its own uid, its hostname, and its own processes only (init, proxy, launcher).
            assert answer == {"uid": spare.uid, "host": spare.name, "pids": [1, 2, 3]}
            assert container.cgroup is not None
            limit = container.cgroup.dirs["memory"] / "memory.limit_in_bytes"
            assert int(limit.read_text()) == 512 * 1024 * 1024
            await factory.spares_made()
            (again,) = [s for s in factory.booted if s.booted and s.booted[0] == language]
            assert again is not spare and again.uid != container.uid
        finally:
            await container.destroy()


async def test_a_booted_spare_tells_its_kind_in_messages(root: Path) -> None:
    """The kind arrives at adoption: an action without its function is reported for it."""
    async with started(f"process://{root}") as factory:
        container = await factory.create("wsk0_k", runtime("python:3.11"), 256)
        assert isinstance(container, ProcessContainer)
        client = ContainerClient("localhost", 0, 1 << 20, unix_path=container.socket_path)
        try:
            init = {"value": {"main": "nope", "code": "x = 1\n", "binary": False}}
            reply = await client.init(json.dumps(init).encode(), 10_000)
            assert reply.response is not None
            assert "has no function 'nope'" in json.dumps(reply.response.result)
        finally:
            await client.close()
            await container.destroy()


async def test_booted_off_boots_nothing_ahead(root: Path) -> None:
    async with started(f"process://{root}?booted=0") as factory:
        assert factory.booted == ()
        container = await factory.create("wsk0_o", runtime("nodejs:20"), 256)
        assert isinstance(container, ProcessContainer)
        try:
            answer = await run_once(container, CODE["nodejs:20"])
            assert answer["pids"] == [1, 2, 3]
            assert factory.booted == ()
        finally:
            await container.destroy()


async def test_a_booted_spare_that_died_is_not_taken(root: Path) -> None:
    async with started(f"process://{root}") as factory:
        (spare,) = [s for s in factory.booted if s.booted and s.booted[0] == "python"]
        os.killpg(spare.held.proc.pid, signal.SIGKILL)
        spare.held.proc.wait()
        container = await factory.create("wsk0_d", runtime("python:3.11"), 256)
        assert isinstance(container, ProcessContainer)
        try:
            assert container.directory != spare.directory
            answer = await run_once(container, CODE["python:3.11"])
            assert answer["pids"] == [1, 2, 3] and answer["uid"] == container.uid
            await factory.spares_made()
            assert not spare.directory.exists()
        finally:
            await container.destroy()


async def test_booted_spares_memory_is_counted_and_given_up_for_the_pool(root: Path) -> None:
    """What the pool counts of the factory (`held_memory`) is the booted spares' cgroups'
    use, runtimes and all; `shed` gives it up, and a language's booted spare comes back
    after its next adoption."""
    async with started(f"process://{root}") as factory:
        booted = factory.booted
        assert len(booted) == 3
        uses = []
        for spare in booted:
            assert spare.cgroup is not None
            used = spare.cgroup.memory_used()
            assert used is not None and used >= 5, used  # a proxy and a launcher: MBs
            uses.append(used)
        held = factory.held_memory()
        assert abs(held - sum(uses)) <= 3, (held, uses)  # a moment apart: pages come and go
        factory.shed()
        assert not factory.booted and factory.held_memory() == 0
        await wait_until_async(
            lambda: [s.name for s in booted if s.held.proc.poll() is None or s.directory.exists()],
            "the shed spares' processes and directories gone",
            timeout=10,
            interval=0.05,
            until=lambda left: not left,
        )
        container = await factory.create("wsk0_s", runtime("python:3.11"), 256)
        assert isinstance(container, ProcessContainer)
        try:
            answer = await run_once(container, CODE["python:3.11"])
            assert answer["uid"] == container.uid  # a plain spare did
            await factory.spares_made()
            assert [b.booted[0] for b in factory.booted if b.booted] == ["python"]
        finally:
            await container.destroy()


async def test_prewarming_off_makes_no_spares_unless_counted(root: Path) -> None:
    """PYWHISK_PREWARM=false: no spare sandbox, booted or not; creates make their own. The
    URL's counts still make them, for an operator who asks by number."""
    cold = Settings(prewarm=False)
    async with started(f"process://{root}", cold) as factory:
        assert factory.spares == () and factory.booted == ()
        container = await factory.create("wsk0_c", runtime("python:3.11"), 256)
        assert isinstance(container, ProcessContainer)
        try:
            answer = await run_once(container, CODE["python:3.11"])
            assert answer["pids"] == [1, 2, 3]
            await factory.spares_made()
            assert factory.spares == () and factory.booted == ()
        finally:
            await container.destroy()
    async with started(f"process://{root}?spares=1&booted=1", cold) as factory:
        assert len(factory.spares) == 1 and len(factory.booted) == 3
