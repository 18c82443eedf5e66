"""The `wsk` command in process (click's CliRunner), its requests going to an httpx
MockTransport instead of a server: `Recorder` answers with the responses a test queues, as
the OpenWhisk REST API would, and keeps every request, so that a test pins what the CLI sent
and what it printed.

`props_file` and `wsk` are fixtures (this `wsk` shadows the real CLI of tests/conftest.py):
a module that uses them imports them and names them in `__all__`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from pywhisk.cli.main import cli
from pywhisk.cli.session import Session

Handler = Callable[[httpx.Request], httpx.Response]
PROPS = "APIHOST=http://whisk.test\nAUTH=uuid:key\n"


class Recorder:
    """Answers with queued responses and remembers every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return self.responses.pop(0)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
def props_file(tmp_path: Path) -> Path:
    path = tmp_path / "wskprops"
    path.write_text(PROPS)
    return path


@pytest.fixture
def wsk(props_file: Path) -> Callable[..., Result]:
    def run(*args: str, handler: Handler | None = None, props: str | None = None) -> Result:
        if props is not None:
            props_file.write_text(props)
        transport = httpx.MockTransport(handler or Recorder())
        session = Session(env={"WSK_CONFIG_FILE": str(props_file)}, transport=transport)
        return CliRunner().invoke(cli, list(args), obj=session)

    return run
