"""Runtime images on the real Docker engine: built (or found up to date) once per session,
then each started as the invoker starts it and spoken to over its published port.

The first build on a fresh machine debootstraps the base (about a minute), hence the timeout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.deploy import baseimage
from pywhisk.deploy.baseimage import Reporter
from pywhisk.deploy.images import DockerUnavailable, connect, ensure_images
from tests.support.polling import wait_until
from tests.support.prerequisites import require

pytestmark = pytest.mark.timeout(900)

KINDS = {"python:3.11": "python", "php:8.2": "php", "nodejs:20": "nodejs"}
SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

# Each says hello and reports who runs it and which interpreter version.
HELLO = {
    "python": """
import os, sys
def main(args):
    print("hello printed", args["name"])
    return {"greeting": "Hello " + args["name"] + "!", "uid": os.getuid(),
            "version": "%d.%d" % sys.version_info[:2]}
""",
    "php": """<?php
function main(array $args): array {
    echo "hello printed {$args['name']}\\n";
    return ["greeting" => "Hello {$args['name']}!", "uid" => posix_getuid(),
            "version" => PHP_MAJOR_VERSION . "." . PHP_MINOR_VERSION];
}
""",
    "nodejs": """
function main(args) {
  console.log('hello printed ' + args.name);
  return {greeting: 'Hello ' + args.name + '!', uid: process.getuid(),
          version: process.versions.node.split('.')[0]};
}
""",
}
VERSIONS = {"python": "3.11", "php": "8.2", "nodejs": "20"}


@pytest.fixture(scope="session")
def built() -> tuple[dict[str, str], list[str]]:
    lines: list[str] = []
    return ensure_images(progress=lines.append), lines


@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    client = connect()
    yield client
    client.close()


def test_builds_an_image_per_kind_tagged_by_content(
    built: tuple[dict[str, str], list[str]], docker_client: Any
):
    tags, lines = built
    assert tags == {
        "python:3.11": "pywhisk/action-python-v3.11:latest",
        "php:8.2": "pywhisk/action-php-v8.2:latest",
        "nodejs:20": "pywhisk/action-nodejs-v20:latest",
        "provided": "pywhisk/action-provided:latest",
    }
    for kind, name in tags.items():
        image = docker_client.images.get(name)
        assert image.labels["pywhisk.kind"] == kind
        content_tag = image.labels["pywhisk.content"]
        assert f"{name.rpartition(':')[0]}:{content_tag}" in image.tags
    assert "done: 4 runtime image(s) ready" in lines[-1]


def test_a_second_call_builds_nothing(built: tuple[dict[str, str], list[str]]):
    lines: list[str] = []
    started = time.monotonic()
    assert ensure_images(progress=lines.append) == built[0]
    elapsed = time.monotonic() - started
    assert elapsed < 5, lines
    assert sum("is up to date" in line for line in lines) == 4, lines
    assert not [line for line in lines if "building" in line or "debootstrap" in line]
    assert lines[-1].endswith("done: 4 runtime image(s) ready, 0 built")


def test_a_single_kind_by_alias(built: tuple[dict[str, str], list[str]]):
    lines: list[str] = []
    assert ensure_images(["php"], progress=lines.append) == {"php:8.2": built[0]["php:8.2"]}
    assert lines[-1].endswith("done: 1 runtime image(s) ready, 0 built")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_image_answers_init_and_run(
    built: tuple[dict[str, str], list[str]], docker_client: Any, kind: str
):
    language = KINDS[kind]
    container = docker_client.containers.run(
        built[0][kind],
        detach=True,
        ports={"8080/tcp": ("127.0.0.1", None)},
        mem_limit="256m",
        labels={"pywhisk.test": "images"},
    )
    try:
        container.reload()
        port = int(container.ports["8080/tcp"][0]["HostPort"])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            init = {"name": "hello", "main": "main", "code": HELLO[language], "binary": False}
            answer = _first_answer(http, "/init", {"value": init})
            assert answer.status_code == 200, answer.text
            answer = http.post("/run", json={"value": {"name": "Docker"}})
            assert answer.status_code == 200, answer.text
            result = answer.json()
        assert result["greeting"] == "Hello Docker!"
        assert result["uid"] != 0
        assert result["version"] == VERSIONS[language]
        # The sentinel ends stdout and stderr each; Docker may hand one stream over first.
        logs = _logs_until(container, SENTINEL, times=2)
        assert "hello printed Docker" in logs
    finally:
        container.remove(force=True)


def test_a_missing_base_is_imported_from_the_cached_tarball(
    built: tuple[dict[str, str], list[str]], docker_client: Any, monkeypatch: pytest.MonkeyPatch
):
    """Under a test tag, so the shared base and the images built on it stay as they are."""
    import docker.errors

    tarball = baseimage.cache_dir() / baseimage.TARBALL
    if not tarball.exists():
        tarball = Path("/var/cache/pywhisk") / baseimage.TARBALL
    require(
        tarball.exists(),
        "the base image was not built on this host (pywhisk images build), so no tarball is cached",
    )
    name = "pywhisk-test/base:bookworm"
    monkeypatch.setattr(baseimage, "BASE_IMAGE", name)
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(name)
    lines: list[str] = []
    try:
        image = baseimage.ensure_base(docker_client, Reporter(lines.append), tarball.parent)
        assert "importing the cached" in lines[0] and "imported in" in lines[-1]
        assert name in image.tags
        output = docker_client.containers.run(
            name, ["sh", "-c", "python3 --version; php --version"], remove=True
        ).decode()
        assert "Python 3.11" in output and "PHP 8.2" in output
    finally:
        docker_client.images.remove(name)


def test_a_wrong_docker_socket_is_named(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    with pytest.raises(DockerUnavailable) as info:
        ensure_images(progress=lambda line: None)
    message = str(info.value)
    assert "DOCKER_HOST=unix:///nonexistent.sock" in message
    assert "No such file or directory" in message
    assert "dockerd" in message


def test_the_command_is_quiet_when_asked(built: tuple[dict[str, str], list[str]]):
    executable = shutil.which("pywhisk")
    assert executable, "the pywhisk command is not installed (pip install -e .)"
    done = subprocess.run(
        [executable, "images", "build", "--kind", "python", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_command_names_the_socket_too():
    executable = shutil.which("pywhisk")
    assert executable, "the pywhisk command is not installed (pip install -e .)"
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent.sock"}
    done = subprocess.run(
        [executable, "images", "build"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Cannot reach the Docker engine at DOCKER_HOST=unix:///nonexistent.sock" in done.stderr
    assert "Traceback" not in done.stderr


def _first_answer(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """The container's proxy may not listen yet: Docker's port forwarder then drops us."""
    return wait_until(
        lambda: http.post(path, json=body),
        f"the container's proxy to answer {path}",
        interval=0.01,
        until=lambda _answer: True,
        ignoring=(httpx.TransportError,),
    )


def _logs_until(container: Any, text: str, times: int = 1) -> str:
    return wait_until(
        lambda: str(container.logs().decode()),
        f"{text!r} {times} time(s) in the container's logs",
        timeout=10,
        interval=0.05,
        until=lambda logs: logs.count(text) >= times,
    )
