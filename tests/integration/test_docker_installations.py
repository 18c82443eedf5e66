"""Two installations of pywhisk on one Docker engine (a standalone server beside a compose
cluster, two developers' servers): each one's invokers look only at containers marked with
its installation id, so neither ever removes the other's, running or left behind, while each
still removes its own leftovers. Against the real engine, with real factories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.installation import FILE_NAME, installation_id
from pywhisk.common.runtimes import default_manifest
from pywhisk.common.startup import StartupError
from pywhisk.invoker.containers.docker import DockerContainer, DockerContainerFactory
from tests.support.docker import TEST_INVOKER_ID, containers, docker, runtime_images

IMAGE = "pywhisk/action-python-v3.11:latest"
_PYTHON = default_manifest().resolve("python:3.11")
assert _PYTHON is not None
PYTHON = _PYTHON


def leftover(installation: str, name: str) -> str:
    """A container as an invoker of `installation` on another host would have left it: its
    owner cannot be found from here, so it looks dead."""
    labels = [
        f"pywhisk.installation={installation}",
        f"pywhisk.invoker={TEST_INVOKER_ID}",
        "pywhisk.owner=another-host/1/1",
    ]
    flags = [arg for label in labels for arg in ("--label", label)]
    return docker("create", "--name", f"{installation}_{name}", *flags, IMAGE).strip()


def present(cid: str) -> bool:
    return docker("ps", "-aq", "--no-trunc", "--filter", f"id={cid}").strip() == cid


def factory(tmp_path: Path, installation: str) -> DockerContainerFactory:
    settings = Settings(data_dir=tmp_path / installation, installation_id=installation)
    return DockerContainerFactory("docker://", settings, TEST_INVOKER_ID)


@pytest.fixture
async def cleanup() -> AsyncIterator[list[str]]:
    made: list[str] = []
    yield made
    for cid in made:
        await asyncio.to_thread(docker, "rm", "-f", cid, check=False)


async def test_another_installations_leftovers_are_not_touched(
    tmp_path: Path, cleanup: list[str]
) -> None:
    await asyncio.to_thread(runtime_images)
    theirs = await asyncio.to_thread(leftover, "pywhisk-test-theirs", "wsk77_0")
    ours = await asyncio.to_thread(leftover, "pywhisk-test-ours", "wsk77_0")
    cleanup += [theirs, ours]
    mine = factory(tmp_path, "pywhisk-test-ours")
    await mine.start()
    try:
        assert present(theirs)  # another installation's: not ours to judge
        assert not present(ours)  # our own crashed run's: removed
    finally:
        await mine.close()
    assert present(theirs)


async def test_two_live_installations_side_by_side(tmp_path: Path) -> None:
    await asyncio.to_thread(runtime_images)
    first, second = factory(tmp_path, "pywhisk-test-a"), factory(tmp_path, "pywhisk-test-b")
    await first.start()
    try:
        a = await first.create("wsk77_0", PYTHON, 128)
        assert isinstance(a, DockerContainer)
        await second.start()
        try:
            # Same invoker id, same container name asked for: no collision, no removal.
            b = await second.create("wsk77_0", PYTHON, 128)
            assert isinstance(b, DockerContainer)
            assert not a.exited and not b.exited
            assert containers("pywhisk.installation=pywhisk-test-a") == [a.id]
            assert containers("pywhisk.installation=pywhisk-test-b") == [b.id]
        finally:
            await second.close()
        assert present(a.id) and not a.exited
    finally:
        await first.close()
    assert containers("pywhisk.installation=pywhisk-test-a") == []


def test_the_id_is_made_once_and_kept(tmp_path: Path) -> None:
    made = installation_id("", tmp_path / "data")
    assert (tmp_path / "data" / FILE_NAME).read_text().strip() == made
    assert installation_id("", tmp_path / "data") == made
    assert installation_id("", tmp_path / "elsewhere") != made
    assert installation_id("compose-1", tmp_path / "data") == "compose-1"
    with pytest.raises(StartupError, match="invalid installation id"):
        installation_id("no spaces", tmp_path)
