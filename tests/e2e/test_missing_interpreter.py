"""A kind whose interpreter is not installed on the invoker says what to install."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import StandaloneServer


@pytest.fixture
def server_without_php(tmp_path: Path) -> Iterator[StandaloneServer]:
    # A PATH holding python3 and node but no php; world-readable, since containers run as nobody.
    bin_dir = Path(tempfile.mkdtemp(prefix="pywhisk-nophp-"))
    bin_dir.chmod(0o755)
    for command in ("python3", "node"):
        found = shutil.which(command, path="/usr/bin:/bin")
        assert found, command
        os.symlink(found, bin_dir / command)
    server = StandaloneServer(
        tmp_path / "data", env={"PYWHISK_CONTAINERS_URL": f"process://?path={bin_dir}"}
    )
    server.start()
    yield server
    server.stop()
    shutil.rmtree(bin_dir)


def test_php_action_without_php_names_the_package(server_without_php: StandaloneServer) -> None:
    ns = server_without_php.create_namespace("nophp", invocationsPerMinute=1000)
    uuid, _, key = ns.auth.partition(":")
    with httpx.Client(
        base_url=f"{server_without_php.url}/api/v1", auth=(uuid, key), timeout=60
    ) as api:
        code = "<?php\nfunction main(array $a): array { return ['ok' => true]; }\n"
        assert (
            api.put(
                "/namespaces/_/actions/p", json={"exec": {"kind": "php:8.2", "code": code}}
            ).status_code
            == 200
        )
        r = api.post("/namespaces/_/actions/p?blocking=true", json={})
        assert r.status_code == 502
        response = r.json()["response"]
        assert response["status"] == "action developer error"
        assert "apt-get install php-cli" in response["result"]["error"]
        assert "'php'" in response["result"]["error"]
        # Python still works on the same server.
        py = {"exec": {"kind": "python:3.11", "code": "def main(a):\n    return {'ok': True}\n"}}
        assert api.put("/namespaces/_/actions/q", json=py).status_code == 200
        assert api.post("/namespaces/_/actions/q?blocking=true&result=true", json={}).json() == {
            "ok": True
        }
