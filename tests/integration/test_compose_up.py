"""`docker compose up` for real: docker-compose.yml on this machine's Docker engine, with
deploy/standins/compose.yml swapping the four third-party images this machine cannot pull
(pouchdb-server for CouchDB, tansu for Kafka, Debian's nginx for nginx, no Consul: static
discovery). The platform image, both controllers, both invokers starting action containers
on the engine, nginx's configuration, the health checks and the start order are the compose
file's own.

Then the seed transcript through nginx with the real `wsk`, in PHP, Python and Node.js; both
controllers answer behind nginx; a blocking invoke still works with one controller stopped.
Needs a Docker engine and docker-compose; deploy/test.sh installs both, so nothing is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.polling import wait_until
from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]
PROJECT = "pywhisk-compose-test"
# Image builds (the platform image's pip install most of all) take minutes on a fresh machine.
pytestmark = pytest.mark.timeout(1500)


def compose_command() -> list[str]:
    files = [
        "-f",
        str(REPO / "docker-compose.yml"),
        "-f",
        str(REPO / "deploy/standins/compose.yml"),
    ]
    return ["docker-compose", "-p", PROJECT, *files]


def run(command: list[str], env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "PYWHISK_PORT": f"127.0.0.1:{port}",
        "PYWHISK_BASE": "pywhisk/standin-base:local",
    }
    run(["bash", str(REPO / "deploy/standins/build.sh")], env)
    run([*compose_command(), "build"], env)
    down = [*compose_command(), "down", "-v", "--remove-orphans"]
    run(down, env, timeout=300)  # what an interrupted earlier run may have left
    try:
        run([*compose_command(), "up", "-d"], env, timeout=300)  # nginx healthy => all up
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.get(f"{url}/invokers", timeout=2).json(),
            "both invokers up behind nginx",
            timeout=60,
            interval=0.5,
            until=lambda seen: seen == {"invoker0": "up", "invoker1": "up"},
            ignoring=(httpx.TransportError, ValueError),  # ValueError: not JSON yet
            details=lambda: run([*compose_command(), "logs"], env),
        )
        yield url, env
    finally:
        subprocess.run(down, cwd=REPO, env=env, capture_output=True, timeout=300)


SEED = {
    "hello.php": (
        "<?php\nfunction main(array $args) : array {\n"
        '    $name = $args["name"] ?? "stranger";\n'
        '    return ["greeting" => "Hello $name!"];\n}\n'
    ),
    "hello.py": (
        "def main(args):\n    return {'greeting': 'Hello %s!' % args.get('name', 'stranger')}\n"
    ),
    "hello.js": (
        "function main(args) {\n  return {greeting: `Hello ${args.name || 'stranger'}!`};\n}\n"
    ),
}


def test_an_api_route_through_nginx(cluster: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """`wsk api create` through nginx, and the route it prints called through nginx too."""
    url, env = cluster
    key = run(
        [*compose_command(), "exec", "-T", "controller0", "pywhisk", "admin", "get", "guest"], env
    )
    wsk_env = {**env, "WSK_CONFIG_FILE": str(tmp_path / "wskprops")}

    def wsk(*args: str) -> str:
        return run(["wsk", *args], wsk_env, timeout=120)

    wsk("property", "set", "--apihost", url, "--auth", key.strip().splitlines()[-1])
    (tmp_path / "todo.py").write_text(
        "def main(args):\n    return {'body': {'id': args['id'], 'path': args['__ow_path']}}\n"
    )
    wsk("action", "create", "show-todo", str(tmp_path / "todo.py"), "--web", "true")
    made = wsk("api", "create", "/todos", "/{id}", "get", "show-todo", "--response-type", "http")
    route = made.strip().splitlines()[-1]
    assert route.startswith(f"{url}/api/") and route.endswith("/todos/{id}"), made
    for _ in range(4):  # nginx spreads these over both controllers
        answer = httpx.get(route.replace("{id}", "42"), timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": "42", "path": "/42"}


def test_the_seed_transcript_through_nginx(
    cluster: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = cluster
    key = run(
        [*compose_command(), "exec", "-T", "controller0", "pywhisk", "admin", "get", "guest"], env
    )
    auth = key.strip().splitlines()[-1]
    wsk_env = {**env, "WSK_CONFIG_FILE": str(tmp_path / "wskprops")}

    def wsk(*args: str) -> str:
        return run(["wsk", *args], wsk_env, timeout=120)

    wsk("property", "set", "--apihost", url, "--auth", auth)
    for name, code in SEED.items():
        (tmp_path / name).write_text(code)
        action = name.replace(".", "-")
        assert wsk("action", "create", action, str(tmp_path / name)).strip() == (
            f"ok: created action {action}"
        )
        out = wsk("action", "invoke", action, "--result", "--param", "name", "World")
        assert '"greeting": "Hello World!"' in out, out

    invoked = wsk("action", "invoke", "hello-py", "--param", "name", "Async")
    activation_id = re.search(r"with id (\w{32})", invoked).group(1)  # type: ignore[union-attr]
    got = wait_until(
        lambda: wsk("activation", "result", activation_id),
        f"the result of {activation_id}",
        interval=0.5,
        ignoring=(AssertionError,),  # wsk failed: no record yet
    )
    assert '"greeting": "Hello Async!"' in got

    # Both controllers answered behind nginx (its access log names the upstream).
    logs = run([*compose_command(), "logs", "--no-color", "nginx"], env)
    upstreams = set(re.findall(r" (\d+\.\d+\.\d+\.\d+:3233) ", logs))
    assert len(upstreams) == 2, logs[-3000:]
    # The invokers ran the actions in containers on this engine, marked as this cluster's.
    containers = run(
        [
            "docker",
            "ps",
            "--filter",
            "label=pywhisk.installation=compose",
            "--format",
            "{{.Names}}",
        ],
        env,
    ).split()
    assert any(re.fullmatch(r"compose_wsk\d+_\d+", c) for c in containers), containers

    # One controller stopped: nginx sends everything to the other.
    run([*compose_command(), "stop", "controller1"], env, timeout=120)
    for _ in range(4):
        out = wsk("action", "invoke", "hello-js", "--result", "--param", "name", "Again")
        assert '"greeting": "Hello Again!"' in out, out
