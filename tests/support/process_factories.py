"""Process container factories made directly, as an invoker makes them: a runtime by kind,
a home directory the sandboxes' uids may pass through, a started factory closed after."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from pywhisk.common.config import Settings
from pywhisk.common.runtimes import Runtime, default_manifest
from pywhisk.invoker.containers.process import ProcessContainerFactory


def runtime(kind: str) -> Runtime:
    found = default_manifest().resolve(kind)
    assert found is not None
    return found


def sandbox_root() -> Iterator[Path]:
    """A fixture's body: a fresh directory, traversable (0711) by the containers' own uids."""
    path = Path(tempfile.mkdtemp(prefix="pywhisk-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def started(
    url: str, settings: Settings | None = None
) -> AsyncIterator[ProcessContainerFactory]:
    factory = ProcessContainerFactory(url, settings or Settings(), 0)
    await factory.start()
    try:
        yield factory
    finally:
        await factory.close()


def command_names(pid: int) -> list[str]:
    """The command names of `pid` and all its descendants, as the host sees them."""
    names, todo = [], [pid]
    while todo:
        current = todo.pop()
        task = Path(f"/proc/{current}/task/{current}")
        names.append((task / "comm").read_text().strip())
        todo += [int(c) for c in (task / "children").read_text().split()]
    return names
