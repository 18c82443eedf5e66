"""The platform as the benches measure it: a real standalone server with a namespace no
throttle stops, and the no-op Python action every bench invokes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from bench.clients import session_for
from pywhisk.common.entities.identity import MAX_CONCURRENT, MAX_PER_MINUTE
from pywhisk.invoker.containers.process_boot import DEFAULT_BOOTED
from pywhisk.invoker.containers.process_spares import DEFAULT_SPARES
from tests.support.server import StandaloneServer

NOOP = "def main(args):\n    return {}\n"
CODE = {"exec": {"kind": "python:3.11", "code": NOOP}}
# The bench's namespace: no throttle may stop the load.
LIMITS = {"invocationsPerMinute": MAX_PER_MINUTE, "concurrentInvocations": MAX_CONCURRENT}


def without_stem_cells(url: str = "process://") -> dict[str, str]:
    """A server's environment without stem cells (PYWHISK_PREWARM=false) whose process
    containers still make their spares ahead as by default (prewarming off turns those off
    too): the benches' cold start is a new action's, on the default platform."""
    parts = urlsplit(url)
    given = dict(parse_qsl(parts.query))
    if parts.scheme == "process":
        counts = {"spares": DEFAULT_SPARES, "booted": DEFAULT_BOOTED}
        more = [f"{name}={n}" for name, n in counts.items() if name not in given]
        if more:
            url += ("&" if parts.query else "?") + "&".join(more)
    return {"PYWHISK_PREWARM": "false", "PYWHISK_CONTAINERS_URL": url}


@asynccontextmanager
async def platform(
    tmp: Path, name: str, **env: str
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A standalone server with `env`, and a client session for a high-limit namespace."""
    server = StandaloneServer(tmp / name, env=env)
    await asyncio.to_thread(server.start, 120.0)
    try:
        ns = await asyncio.to_thread(server.create_namespace, "bench", **LIMITS)
        async with session_for(ns.auth) as session:
            yield session, f"{server.url}/api/v1/namespaces/_/actions"
    finally:
        await asyncio.to_thread(server.stop)
