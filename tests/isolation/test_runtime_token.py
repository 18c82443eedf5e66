"""The runtime's token over real HTTP: a runtime started with PYWHISK_RUNTIME_TOKEN answers
only requests that carry it, and its action does not see it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.polling import wait_until
from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]
TOKEN = "k9Yb3Hq2Vt0mRz8LwP5sXe1N"
CODE = "import os\ndef main(args):\n    return {'env': sorted(k for k in os.environ if 'TOKEN' in k)}\n"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYWHISK_RUNTIME_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "action_runtime",
            "--language",
            "python",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=tmp_path_factory.mktemp("runtime"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> httpx.Response:
        assert proc.poll() is None, "the runtime exited"  # no use waiting
        return httpx.post(f"{url}/run", json={}, timeout=1)

    wait_until(
        answers,
        "the runtime to answer",
        timeout=15,
        interval=0.05,
        until=lambda _answer: True,
        ignoring=(httpx.TransportError,),
    )
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("headers", [{}, {"X-Runtime-Token": "wrong"}, {"X-Runtime-Token": ""}])
def test_requests_without_the_token_are_refused(runtime: str, headers: dict[str, str]) -> None:
    init = {"value": {"name": "a", "main": "main", "code": CODE, "binary": False}}
    for path, body in (("/init", init), ("/run", {"value": {}})):
        answer = httpx.post(f"{runtime}{path}", json=body, headers=headers, timeout=10)
        assert answer.status_code == 403, answer.text
        assert answer.json() == {"error": "Forbidden"}


def test_the_invoker_with_the_token_is_served_and_the_action_never_sees_it(runtime: str) -> None:
    headers = {"X-Runtime-Token": TOKEN}
    init = {"value": {"name": "a", "main": "main", "code": CODE, "binary": False}}
    answer = httpx.post(f"{runtime}/init", json=init, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    answer = httpx.post(f"{runtime}/run", json={"value": {}}, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"env": []}
