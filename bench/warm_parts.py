"""`python -m bench warm-parts`: what two of the warm path's parts cost, in one process, as
CPU time (steadier than a whole server's wall time on a loaded machine).

    python -m bench warm-parts [--rounds R] [--n N]

- Messages: an activation message with a small payload and its completion with the record of
  a no-op, encoded and parsed again (what a queue of bytes costs each invoke) against handed
  over as objects (what the in-process queue does now, `Queue.publish`).
- The invoke route: `POST /api/v1/namespaces/_/actions/noop` with a body that is not JSON
  (authenticated from the identity cache, refused with a 400 by the invoke handler before any
  store or queue work: the framework's part and ours around it) called as uvicorn calls the
  application, through the app's own stack against through `InvokeLane` (as the server
  serves it now).
Each pair alternates R rounds of N, the order reversed every other round; it prints the
medians of the rounds in µs per call.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp
from starlette.types import Message as AsgiMessage

from pywhisk.common.config import Settings
from pywhisk.common.messages import ActivationMessage, CompletionMessage, Message, User
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.api.app import create_app
from pywhisk.controller.api.invoke_lane import InvokeLane
from pywhisk.controller.core.bootstrap import ensure_namespace
from pywhisk.controller.core.services import Services

ACTIVATION = ActivationMessage(
    transid="t" * 32,
    activation_id="a" * 32,
    action="guest/noop",
    revision="1-abc",
    version="0.0.1",
    user=User(namespace="guest", subject="guest", auth="u:k"),
    controller=0,
    blocking=True,
    content={"name": "world", "count": 3},
    received=1_700_000_000_000,
)
RECORD: dict[str, Any] = {
    "namespace": "guest",
    "name": "noop",
    "version": "0.0.1",
    "subject": "guest",
    "activationId": "a" * 32,
    "start": 1_700_000_000_001,
    "end": 1_700_000_000_002,
    "duration": 1,
    "response": {"status": "success", "statusCode": 0, "success": True, "result": {}},
    "logs": [],
    "annotations": [
        {"key": "path", "value": "guest/noop"},
        {"key": "kind", "value": "python:3.11"},
    ],
    "publish": False,
}
COMPLETION = CompletionMessage(
    transid="t" * 32, activation_id="a" * 32, invoker=0, activation=RECORD
)


def wire(message: Message) -> Message:
    return type(message).from_bytes(message.to_bytes())


def handed(message: Message) -> Message:
    return type(message).from_bytes(message)


def messages(rounds: int, n: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"encoded and parsed": [], "handed over": []}
    pair = [("encoded and parsed", wire), ("handed over", handed)]
    for round_ in range(rounds):
        for name, how in pair[:: 1 if round_ % 2 == 0 else -1]:
            started = time.process_time()
            for _ in range(n):
                how(ACTIVATION)
                how(COMPLETION)
            times[name].append((time.process_time() - started) * 1e6 / n)
    return {k: statistics.median(v) for k, v in times.items()}


async def call(app: ASGIApp, scope: dict[str, Any]) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": b'{"a": ', "more_body": False}

    async def send(message: AsgiMessage) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def route(tmp: Path, rounds: int, n: int) -> dict[str, float]:
    store = SqliteStore(f"sqlite:///{tmp / 'db.sqlite'}")
    await store.open()
    services = Services(Settings(data_dir=tmp), store, MemoryQueue())
    await services.start()
    try:
        guest = await ensure_namespace(store, "guest")
        app = create_app(services, manage_services=False)
        token = base64.b64encode(guest.auth.encode())
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/namespaces/_/actions/noop",
            "raw_path": b"/api/v1/namespaces/_/actions/noop",
            "root_path": "",
            "query_string": b"blocking=true",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"authorization", b"Basic " + token),
                (b"content-type", b"application/json"),
                (b"content-length", b"6"),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        servers: dict[str, ASGIApp] = {"the app's stack": app, "InvokeLane": InvokeLane(app)}
        times: dict[str, list[float]] = {name: [] for name in servers}
        for served in servers.values():  # warm-up: caches filled
            assert await call(served, scope) == 400
        for round_ in range(rounds):
            for name, served in list(servers.items())[:: 1 if round_ % 2 == 0 else -1]:
                started = time.process_time()
                for _ in range(n):
                    await call(served, scope)
                times[name].append((time.process_time() - started) * 1e6 / n)
        return {k: statistics.median(v) for k, v in times.items()}
    finally:
        await services.stop()
        await store.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench warm-parts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args(argv)
    figures = messages(args.rounds, args.n)
    print("an activation message and its completion, µs of CPU per invoke (median of rounds):")
    for name, us in figures.items():
        print(f"  {name:20} {us:7.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        laned = asyncio.run(route(Path(tmp), args.rounds, args.n))
    print("an invoke request refused (400) by the handler, µs of CPU per request:")
    for name, us in laned.items():
        print(f"  {name:20} {us:7.1f}")
