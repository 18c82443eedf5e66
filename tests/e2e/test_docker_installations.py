"""Two standalone servers in Docker mode on one engine, as two users of one machine run them:
both are invoker 0, yet neither ever removes the other's action containers, whether the
other is running or was killed (-9) and left them behind; a server restarted on its own data
directory still removes its own leftovers."""

from __future__ import annotations

import itertools
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.common.installation import FILE_NAME
from pywhisk.deploy.images import ensure_images
from tests.support.docker import containers
from tests.support.server import StandaloneServer

HELLO = "def main(args):\n    return {'msg': 'Hello ' + args.get('name', 'World')}\n"
_names = itertools.count()
ENV = {"PYWHISK_CONTAINERS_URL": "docker://", "PYWHISK_PREWARM": "false"}


def installation(server: StandaloneServer) -> str:
    return (server.data_dir / FILE_NAME).read_text().strip()


def own(server: StandaloneServer) -> list[str]:
    return containers(f"pywhisk.installation={installation(server)}")


def invoke_hello(server: StandaloneServer) -> None:
    identity = server.create_namespace(f"n{next(_names)}")
    uuid, _, key = identity.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1/namespaces/_", auth=(uuid, key)) as api:
        code = {"namespace": "_", "exec": {"kind": "python:3.11", "code": HELLO}}
        assert api.put("/actions/hello", json=code).status_code == 200
        done = api.post(
            "/actions/hello", params={"blocking": "true", "result": "true"}, timeout=120
        )
        assert done.json() == {"msg": "Hello World"}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[StandaloneServer, StandaloneServer]]:
    ensure_images(progress=lambda line: None)
    first = StandaloneServer(tmp_path / "first", env=ENV)
    second = StandaloneServer(tmp_path / "second", env=ENV)
    try:
        yield first, second
    finally:
        ids = [installation(s) for s in (first, second) if (s.data_dir / FILE_NAME).exists()]
        for server in (first, second):
            if server.process is not None:
                server.stop()
        for made in ids:
            left = containers(f"pywhisk.installation={made}")
            if left:
                subprocess.run(["docker", "rm", "-f", *left], capture_output=True, timeout=60)


def test_two_servers_on_one_engine(servers: tuple[StandaloneServer, StandaloneServer]) -> None:
    first, second = servers
    first.start(timeout=120)
    invoke_hello(first)
    theirs = own(first)
    assert theirs, "the first server's action runs in a container it keeps warm"

    second.start(timeout=120)
    assert installation(second) != installation(first)
    invoke_hello(second)
    assert own(first) == theirs and own(second)

    first.stop(signal.SIGKILL)  # its containers stay behind, their owner gone
    second.stop()
    second.start(timeout=120)  # a restart removes leftovers: only its own
    assert own(first) == theirs
    invoke_hello(second)

    first.start(timeout=120)  # same data directory, same installation: its leftovers go
    assert all(cid not in own(first) for cid in theirs)
    invoke_hello(first)
    assert own(second)
