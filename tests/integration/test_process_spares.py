"""Spare sandboxes: made ahead, adopted by creates, replaced, and cleaned up (real bwrap,
real cgroups, real runtimes)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.cgroups import CgroupTree, _owner_alive
from pywhisk.invoker.containers.process import ProcessContainer, ProcessContainerFactory
from tests.support.prerequisites import program, require
from tests.support.process_factories import command_names, runtime, sandbox_root, started

require(os.geteuid() == 0, "spare sandboxes hold a uid and cgroups of their own: root only")


PYTHON = runtime("python:3.11")
PHP = runtime("php:8.2")


@pytest.fixture
def root() -> Iterator[Path]:
    program("bwrap", "bubblewrap")  # without it there are no sandboxes, spare or not
    yield from sandbox_root()


async def run_once(container: ProcessContainer, code: str) -> object:
    client = ContainerClient("localhost", 0, 1 << 20, unix_path=container.socket_path)
    try:
        init = {"value": {"name": "t", "main": "main", "code": code, "binary": False, "env": {}}}
        assert (await client.init(json.dumps(init).encode(), 10_000)).response is None
        body = {"value": {}, "activation_id": "a" * 32, "deadline": "0"}
        reply = await client.run(json.dumps(body).encode(), 10_000)
        assert reply.response is not None
        return reply.response.result
    finally:
        await client.close()


async def test_spares_are_made_at_start_with_nothing_running_in_them(root: Path) -> None:
    async with started(f"process://{root}?booted=0") as factory:
        spares = factory.spares
        assert len(spares) == 2
        assert len({s.uid for s in spares}) == 2
        for spare in spares:
            # bwrap outside and the sandbox's first process, held: no interpreter yet.
            assert command_names(spare.held.proc.pid) == ["bwrap", "bwrap"]
            assert spare.cgroup is not None and spare.cgroup.tasks() == [spare.held.child]
            assert (spare.directory / "work").stat().st_uid == spare.uid


async def test_a_create_adopts_a_spare_and_another_is_made(root: Path) -> None:
    async with started(f"process://{root}?booted=0") as factory:
        first = factory.spares[0]
        container = await factory.create("wsk0_1", PHP, 512)
        assert isinstance(container, ProcessContainer)
        try:
            assert container.directory == first.directory and container.uid == first.uid
            assert container.name == "wsk0_1"
            # The spare's proxy learnt its language at adoption: PHP runs.
            code = "<?php\nfunction main(array $a): array { return ['v' => PHP_MAJOR_VERSION, 'host' => gethostname()]; }"
            answer = await run_once(container, code)
            assert isinstance(answer, dict) and answer["v"] == 8
            # Its hostname, fixed when the sandbox was made, still names the invoker.
            assert answer["host"] == first.name and first.name.startswith("wsk0_")
            await factory.spares_made()
            assert len(factory.spares) == 2
            assert container.uid not in {s.uid for s in factory.spares}
        finally:
            await container.destroy()


async def test_a_spare_whose_sandbox_died_is_not_adopted(root: Path) -> None:
    async with started(f"process://{root}?spares=1&booted=0") as factory:
        (spare,) = factory.spares
        os.killpg(spare.held.proc.pid, signal.SIGKILL)
        spare.held.proc.wait()
        container = await factory.create("wsk0_2", PYTHON, 256)
        assert isinstance(container, ProcessContainer)
        try:
            assert container.directory != spare.directory
            assert await run_once(container, "def main(a):\n    return {'ok': 1}\n") == {"ok": 1}
            await factory.spares_made()
            assert not spare.directory.exists() and spare.cgroup is not None
            assert not spare.cgroup.dirs["pids"].exists()
        finally:
            await container.destroy()


async def test_without_spares_each_create_makes_its_sandbox(root: Path) -> None:
    async with started(f"process://{root}?spares=0&booted=0") as factory:
        assert factory.spares == ()
        container = await factory.create("wsk0_3", PYTHON, 256)
        assert isinstance(container, ProcessContainer)
        try:
            assert await run_once(container, "def main(a):\n    return {'ok': 2}\n") == {"ok": 2}
            assert factory.spares == ()
        finally:
            await container.destroy()


async def test_closing_removes_spares_and_gives_their_uids_back(root: Path) -> None:
    factory = ProcessContainerFactory(f"process://{root}", Settings(), 0)
    await factory.start()
    spares = factory.spares + factory.booted
    assert len(factory.booted) == 3  # Python, Node.js and PHP, their runtimes running
    cgroups = [s.cgroup for s in spares]
    await factory.close()
    assert all(s.held.proc.poll() is not None for s in spares)
    assert all(c is not None and not c.dirs["cpu"].exists() for c in cgroups)
    assert list(root.iterdir()) == []  # noqa: ASYNC240 - test assertion


async def test_a_dead_invokers_cgroups_are_removed_with_its_flat_cpu_groups() -> None:
    """What an invoker SIGKILLed before it could clean up leaves, in every hierarchy."""
    try:
        tree = CgroupTree(7)
    except OSError as exc:
        require(False, f"cgroup v1 controllers: {exc}")
        raise
    dead = "pywhisk-invoker7.999999999.1"
    assert not _owner_alive(dead)
    made = [tree.bases["cpu"] / f"{dead}.wsk7_0"]
    for controller in ("memory", "pids", "freezer"):
        made.append(tree.bases[controller] / dead / "wsk7_0")
    try:
        for directory in made:
            directory.mkdir(parents=True)
        tree.prepare()
        tree.remove_leftovers()
        assert not any(d.exists() for d in made)
        assert not (tree.bases["pids"] / dead).exists()
    finally:
        for directory in made:
            with contextlib.suppress(OSError):
                directory.rmdir()
                if directory.parent.name == dead:
                    directory.parent.rmdir()
        tree.close()
