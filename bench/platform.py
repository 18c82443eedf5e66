"""The platform as the benches measure it: a real standalone server with a namespace no
throttle stops, and the no-op Python action every bench invokes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bench.clients import session_for
from pywhisk.common.entities.identity import MAX_CONCURRENT, MAX_PER_MINUTE
from tests.support.server import StandaloneServer

NOOP = "def main(args):\n    return {}\n"
CODE = {"exec": {"kind": "python:3.11", "code": NOOP}}
# The bench's namespace: no throttle may stop the load.
LIMITS = {"invocationsPerMinute": MAX_PER_MINUTE, "concurrentInvocations": MAX_CONCURRENT}


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
