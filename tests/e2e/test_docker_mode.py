"""The seed transcript unchanged with Docker containers (`PYWHISK_CONTAINERS_URL=docker://`).

Needs a Docker engine; deploy/test.sh installs and starts one, so nothing here is skipped.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywhisk.deploy.images import ensure_images
from tests.support.polling import wait_until
from tests.support.server import StandaloneServer

HELLO = {
    "hello.php": "<?php\nfunction main(array $args) : array {\n    $name = $args['name'] ?? 'World';\n    return ['msg' => \"Hello $name\"];\n}\n",
    "hello.py": "def main(args):\n    name = args.get('name', 'World')\n    return {'msg': f'Hello {name}'}\n",
    "hello.js": "function main(params) {\n  return { msg: 'Hello ' + (params.name || 'World') };\n}\n",
}

Wsk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneServer]:
    ensure_images(progress=lambda line: None)
    server = StandaloneServer(
        tmp_path_factory.mktemp("docker-standalone"), env={"PYWHISK_CONTAINERS_URL": "docker://"}
    )
    server.start(timeout=120)
    yield server
    assert server.process is not None
    pid = server.process.pid
    server.stop()
    # Other suites may run invokers too: only this server's containers (owner host/pid/start).
    owners = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=pywhisk.invoker",
            "--format",
            '{{.Label "pywhisk.owner"}}',
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    leftover = [owner for owner in owners if owner.split("/")[1:2] == [str(pid)]]
    assert leftover == [], "the invoker left containers behind on shutdown"


@pytest.fixture
def dwsk(docker_server: StandaloneServer, tmp_path: Path) -> Wsk:
    ns = docker_server.create_namespace(f"d{os.urandom(4).hex()}", invocationsPerMinute=10_000)
    props = tmp_path / "wskprops"
    props.write_text(f"APIHOST={docker_server.url}\nAUTH={ns.auth}\n")
    executable = shutil.which("wsk")
    assert executable

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "WSK_CONFIG_FILE": str(props)}
        done = subprocess.run(
            [executable, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"wsk {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )
        return done

    return run


@pytest.mark.parametrize("filename", sorted(HELLO))
def test_seed_transcript(dwsk: Wsk, tmp_path: Path, filename: str) -> None:
    (tmp_path / filename).write_text(HELLO[filename])
    assert dwsk("action", "update", "hello", filename).stdout == "ok: updated action hello\n"
    assert json.loads(dwsk("action", "invoke", "hello", "--result").stdout) == {
        "msg": "Hello World"
    }
    done = dwsk("action", "invoke", "hello", "--result", "--param", "name", "Rob")
    assert json.loads(done.stdout) == {"msg": "Hello Rob"}


def test_zip_action(dwsk: Wsk, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "__main__.py",
            "from helper import greet\ndef main(args):\n    return {'msg': greet(args.get('name', 'zip'))}\n",
        )
        z.writestr("helper.py", "def greet(name):\n    return 'Hi ' + name\n")
    (tmp_path / "a.zip").write_bytes(buffer.getvalue())
    dwsk("action", "create", "zipped", "a.zip", "--kind", "python:3.11")
    assert json.loads(dwsk("action", "invoke", "zipped", "-r").stdout) == {"msg": "Hi zip"}


def test_blackbox_action_from_an_image(dwsk: Wsk, tmp_path: Path) -> None:
    """Any image speaking /init and /run works as a blackbox action (`--docker IMAGE`)."""
    images = ensure_images(progress=lambda line: None)
    (tmp_path / "bb.py").write_text("def main(args):\n    return {'from': 'blackbox'}\n")
    dwsk("action", "create", "bb", "bb.py", "--docker", images["python:3.11"])
    got = json.loads(dwsk("action", "get", "bb").stdout.split("\n", 1)[1])
    assert got["exec"]["kind"] == "blackbox"
    assert json.loads(dwsk("action", "invoke", "bb", "-r").stdout) == {"from": "blackbox"}


def test_missing_image_is_a_clear_error(dwsk: Wsk) -> None:
    dwsk("action", "create", "ghost", "--docker", "pywhisk/no-such-image:nope")
    done = dwsk("action", "invoke", "ghost", "-b", check=False)
    assert done.returncode != 0
    assert (
        "Failed to pull container image 'pywhisk/no-such-image:nope'." in done.stdout + done.stderr
    )


def test_activation_records_in_docker_mode(dwsk: Wsk, tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("def main(args):\n    print('from docker')\n    return {}\n")
    dwsk("action", "create", "printer", "p.py")
    dwsk("action", "invoke", "printer", "-b")
    logs = dwsk("activation", "logs", "--last").stdout
    assert "from docker" in logs
    record = json.loads(dwsk("activation", "get", "--last").stdout.split("\n", 1)[1])
    notes = {a["key"]: a["value"] for a in record["annotations"]}
    assert notes["kind"] == "python:3.11" and notes["limits"]["memory"] == 256


def own_containers(server: StandaloneServer) -> list[str]:
    """Ids of the containers this server's invoker owns (stem cells included)."""
    assert server.process is not None
    out = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=pywhisk.invoker",
            "--format",
            '{{.ID}} {{.Label "pywhisk.owner"}}',
        ],
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return [
        line.split()[0]
        for line in out
        if line and line.split()[1].split("/")[1:2] == [str(server.process.pid)]
    ]


def test_updating_or_deleting_an_action_removes_its_warm_containers(
    docker_server: StandaloneServer, dwsk: Wsk, tmp_path: Path
) -> None:
    (tmp_path / "w.py").write_text("def main(args):\n    return {'v': 1}\n")
    dwsk("action", "create", "warm", "w.py")
    dwsk("action", "invoke", "warm", "-r")
    # The warm container plus one stem cell per language (the one taken is replaced).
    wait_until(
        lambda: own_containers(docker_server),
        "the warm container and the stem cells",
        timeout=10,
        until=lambda ids: len(ids) >= 4,
    )
    before = set(own_containers(docker_server))
    dwsk("action", "delete", "warm")
    wait_until(
        lambda: before - set(own_containers(docker_server)),
        "the deleted action's warm container to go (and only it)",
        timeout=10,
        until=lambda gone: len(gone) == 1,
    )


API_CALLER = """import json, os, urllib.request
def main(args):
    host = os.environ["__OW_API_HOST"]
    request = urllib.request.Request(host + "/api/v1/namespaces/_/actions")
    request.add_header("Authorization", "Basic " + __import__("base64").b64encode(
        os.environ["__OW_API_KEY"].encode()).decode())
    names = [a["name"] for a in json.load(urllib.request.urlopen(request, timeout=10))]
    return {"host": host, "actions": names}
"""


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a listening socket on `port` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


def test_actions_reach_the_api_and_feeds_work_without_any_setting(
    docker_server: StandaloneServer, dwsk: Wsk, tmp_path: Path
) -> None:
    (tmp_path / "caller.py").write_text(API_CALLER)
    dwsk("action", "create", "caller", "caller.py", "-a", "provide-api-key", "true")
    result = json.loads(dwsk("action", "invoke", "caller", "--result").stdout)
    assert "caller" in result["actions"]
    gateway = result["host"].removeprefix("http://").rpartition(":")[0]
    # The API listens on loopback and on the action network's gateway, nowhere else.
    assert listening_addresses(docker_server.port) == {"127.0.0.1", gateway}
    created = dwsk(
        *("trigger", "create", "every-minute", "--feed", "/whisk.system/alarms/alarm"),
        *("-p", "cron", "*/1 * * * *"),
    )
    assert created.stdout.splitlines()[-1] == "ok: created trigger every-minute"
    read = dwsk("trigger", "get", "every-minute").stdout  # the feed's READ, through the API
    assert '"active": true' in read, read
    dwsk("trigger", "delete", "every-minute")


def test_a_taken_gateway_address_stops_the_start_with_one_line(
    docker_server: StandaloneServer, tmp_path: Path
) -> None:
    """The port is free on loopback but taken on the action network's gateway: the server
    says so in one line and exits non-zero, leaving no container behind."""
    network = json.loads(
        subprocess.run(
            ["docker", "network", "inspect", "pywhisk-actions"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )[0]
    gateway = network["IPAM"]["Config"][0]["Gateway"]
    with socket.create_server((gateway, 0)) as taken:
        port = taken.getsockname()[1]
        server = StandaloneServer(
            tmp_path / "taken", port=port, env={"PYWHISK_CONTAINERS_URL": "docker://"}
        )
        with pytest.raises(RuntimeError, match="standalone server exited"):
            server.start(timeout=120)
    assert server.process is not None and server.process.returncode != 0
    assert own_containers(server) == []
    assert server.log().strip().splitlines() == [
        f"Error: cannot listen on the Docker network's gateway {gateway}:{port}: "
        "Address already in use"
    ]


def test_provided_awslambdaric_in_docker(dwsk: Wsk, tmp_path: Path) -> None:
    """A Lambda custom runtime (AWS's awslambdaric, vendored) in the provided image."""
    from tests.support.lambda_zip import (
        RIC_BOOTSTRAP,
        RIC_HANDLER,
        ensure_awslambdaric,
        write_executable,
        zip_tree,
    )

    tree = tmp_path / "ric"
    tree.mkdir()
    (tree / "handler.py").write_text(RIC_HANDLER)
    write_executable(tree / "bootstrap", RIC_BOOTSTRAP)
    zip_tree(tmp_path / "ric.zip", tree, ensure_awslambdaric())
    dwsk("action", "create", "ric", "ric.zip", "--kind", "provided", "--main", "handler.hello")
    result = json.loads(dwsk("action", "invoke", "ric", "-r", "-p", "name", "Rob").stdout)
    assert result["msg"] == "Hello Rob"
    assert result["env"]["_HANDLER"] == "handler.hello"
    again = json.loads(dwsk("action", "invoke", "ric", "-r").stdout)
    assert again["pid"] == result["pid"]  # warm: the same bootstrap
    logs = dwsk("activation", "logs", "--last").stdout
    assert f"hello from ric {again['request_id']}" in logs


def test_layers_at_opt_in_docker(dwsk: Wsk, tmp_path: Path) -> None:
    """A layer's /opt/bootstrap, /opt/bin on PATH, /opt/lib on the library path, and an /opt
    the function cannot change (root's, and the function runs as the image's own user)."""
    from tests.support.lambda_zip import opt_probe_layer, zip_tree, zlib_version

    opt_probe_layer(tmp_path / "layer.zip")
    fn = tmp_path / "fn"
    (fn / "README").parent.mkdir()
    (fn / "README").write_text("all in the layer\n")
    zip_tree(tmp_path / "fn.zip", fn)
    dwsk("layer", "create", "tools", "layer.zip")
    dwsk("action", "create", "layered", "fn.zip", "--kind", "provided", "--layer", "tools")
    result = json.loads(dwsk("action", "invoke", "layered", "-r").stdout)
    assert result["bootstrap"] == "/opt/bootstrap"
    assert result["tool"] == "tool from /opt/bin"
    assert result["zlib"] == zlib_version()
    writes = result["writes"]
    assert set(writes.values()) == {"Permission denied", "Operation not permitted"}, writes
    assert writes["chmod"] == "Operation not permitted"  # not the owner: no way back
