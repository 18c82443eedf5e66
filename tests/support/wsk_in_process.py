"""The `wsk` command in process (click's CliRunner), its requests going to a stand-in
transport instead of a server: `Recorder` answers with the responses a test queues, as the
OpenWhisk REST API would, and keeps every request (as `Sent`: URL parts, headers by lower-case
name), so that a test pins what the CLI sent and what it printed.

`props_file` and `wsk` are fixtures (this `wsk` shadows the real CLI of tests/conftest.py):
a module that uses them imports them and names them in `__all__`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from click.testing import CliRunner, Result

from pywhisk.cli.main import cli
from pywhisk.cli.session import Session
from pywhisk.cli.transport import Request, Response


class Sent:
    """A request the CLI sent: its URL's parts, and headers by lower-case name."""

    def __init__(self, request: Request) -> None:
        self.method = request.method
        self.url = request.url
        parts = urlsplit(request.url)
        self.path = parts.path
        self.params = dict(parse_qsl(parts.query))
        self.headers = {name.lower(): value for name, value in request.headers.items()}
        self.content = request.content or b""


Handler = Callable[[Sent], Response]
PROPS = "APIHOST=http://whisk.test\nAUTH=uuid:key\n"


class HandlerTransport:
    """Where WhiskClient sends its requests: to a handler, not a socket."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def send(self, request: Request) -> Response:
        return self.handler(Sent(request))

    def close(self) -> None:
        pass


class Recorder:
    """Answers with queued responses and remembers every request."""

    def __init__(self, *responses: Response) -> None:
        self.responses = list(responses)
        self.requests: list[Sent] = []

    def __call__(self, request: Sent) -> Response:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return self.responses.pop(0)

    @property
    def only(self) -> Sent:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    content = b"" if body is None else json.dumps(body).encode()
    return Response(status, list((headers or {}).items()), content)


def body_of(request: Sent) -> Any:
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
        transport = HandlerTransport(handler or Recorder())
        session = Session(env={"WSK_CONFIG_FILE": str(props_file)}, transport=transport)
        return CliRunner().invoke(cli, list(args), obj=session)

    return run
