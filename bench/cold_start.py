"""`python -m bench cold-start`: a new action's first /init + /run in a process container,
with a runtime booted ahead in its spare sandbox (the default) and without (`?booted=0`).

    python -m bench cold-start [--starts N] [--languages python,nodejs,php,python-zip]
                               [--platform]

Two sandboxed process container factories in one process (bwrap, cgroups, own uid each;
run as root), started in turns so that the machine's load hits both alike: per language N
cold starts, each create + /init + first /run + destroy, with the factory's spares made
again before the next (`spares_made`), as they are between two cold starts that are not
in a burst. Prints the medians and quartiles of both, and their ratio, and the CPU time the
container's processes spent from the create's return to the first /run's answer (their
schedstat run time, which the machine's load moves far less than wall time).

`--platform`: the same through four standalone servers (process mode, sandboxed, as root),
booted and not, with stem cells and without (PYWHISK_PREWARM=false), all running at once
and taken in turns: N first invokes of new actions (create, then one blocking invoke with
result), a pause after each for the stem cells and spares to be made again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.runtimes import default_manifest
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.base import Container, ContainerFactory, factory_from_url

CODE = {
    "python": ("python:3.11", "def main(args):\n    return {}\n"),
    "nodejs": ("nodejs:20", "function main(args) { return {}; }\n"),
    "php": ("php:8.2", "<?php\nfunction main(array $args): array { return []; }\n"),
}


def zipped(files: dict[str, str]) -> str:
    """`files` as a base64 zip, as `wsk action create x.zip` sends it."""
    import base64
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


# A zipped action: its /init unpacks (the proxy's zipfile import, booted ahead or not).
ZIPPED = {"python-zip": ("python:3.11", zipped({"__main__.py": CODE["python"][1]}))}
RUN = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "0"}).encode()
SETTLE = 0.4  # after the refill's REFILL_DELAY, so the next start finds its spare booted


def init_body(code: str, binary: bool) -> bytes:
    value = {"name": "noop", "main": "main", "code": code, "binary": binary, "env": {}}
    return json.dumps({"value": value}).encode()


def client(container: Container) -> ContainerClient:
    return ContainerClient(
        container.host,
        container.port,
        1 << 20,
        alive=lambda: not container.exited,
        unix_path=container.socket_path,
    )


def cpu_ms(container: Container) -> dict[tuple[int, int], float]:
    """Run time so far of each thread in the container's cgroup, ms by (pid, tid)."""
    cgroup = getattr(container, "cgroup", None)
    times: dict[tuple[int, int], float] = {}
    for pid in cgroup.tasks() if cgroup is not None else []:
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                    times[(pid, int(tid))] = int(stat.read().split()[0]) / 1e6
    return times


async def cold_start(factory: ContainerFactory, name: str, language: str) -> tuple[float, ...]:
    """ms to create, to /init's answer and to the first /run's, and the container's CPU ms
    in between; destroyed after."""
    kind, code = {**CODE, **ZIPPED}[language]
    runtime = default_manifest().resolve(kind)
    assert runtime is not None
    body = init_body(code, language in ZIPPED)
    began = time.perf_counter()
    container = await factory.create(name, runtime, 256)
    created = time.perf_counter()
    before = cpu_ms(container)
    c = client(container)
    try:
        assert (await c.init(body, 30_000)).response is None
        initialised = time.perf_counter()
        assert (await c.run(RUN, 30_000)).healthy
        ran = time.perf_counter()
        after = cpu_ms(container)
    finally:
        await c.close()
        await container.destroy()
    cpu = sum(ms - before.get(thread, 0.0) for thread, ms in after.items())
    return (*((t - began) * 1000 for t in (created, initialised, ran)), cpu)


def quartiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"p50 {q[1]:6.1f} [q1 {q[0]:6.1f}, q3 {q[2]:6.1f}]"


async def run(args: argparse.Namespace) -> None:
    languages = args.languages.split(",")
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # noqa: ASYNC240 - set-up, before anything runs
        factories = {
            "booted": factory_from_url(f"process://{root}/a?sandbox=on", Settings(), 0),
            "not booted": factory_from_url(
                f"process://{root}/b?sandbox=on&booted=0", Settings(), 1
            ),
        }
        for factory in factories.values():
            await factory.start()
        times: dict[tuple[str, str], list[tuple[float, ...]]] = {}
        try:
            for i in range(args.starts):
                for language in languages:
                    names = list(factories) if i % 2 == 0 else list(reversed(factories))
                    for name in names:
                        factory = factories[name]
                        one = await cold_start(factory, f"c{i}{language[:2]}", language)
                        times.setdefault((name, language), []).append(one)
                        await asyncio.sleep(SETTLE)
                        await factory.spares_made()  # type: ignore[attr-defined]
        finally:
            for factory in factories.values():
                await factory.close()
    print(
        f"cold start of a new action, process mode, sandboxed, in turns ({args.starts} starts "
        f"each; load {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end)"
    )
    for language in languages:
        totals = {}
        for name in factories:
            figures = times[(name, language)]
            total = [f[2] for f in figures]
            totals[name] = statistics.median(total)
            print(
                f"  {language:7} {name:10}  create+/init+/run {quartiles(total)} ms"
                f"  (create p50 {statistics.median(f[0] for f in figures):5.1f},"
                f" /init p50 {statistics.median(f[1] - f[0] for f in figures):5.1f},"
                f" /run p50 {statistics.median(f[2] - f[1] for f in figures):5.1f};"
                f" its CPU p50 {statistics.median(f[3] for f in figures):5.1f})"
            )
        print(f"  {language:7} booted/not booted {totals['booted'] / totals['not booted']:5.2f}x")


async def platform(args: argparse.Namespace) -> None:
    import aiohttp

    from bench.clients import sequential, session_for
    from bench.platform import LIMITS, without_stem_cells
    from tests.support.server import StandaloneServer

    languages = args.languages.split(",")
    configs = {
        ("stem cell", "booted"): {},
        ("stem cell", "not booted"): {"PYWHISK_CONTAINERS_URL": "process://?booted=0"},
        ("no stem cell", "booted"): without_stem_cells(),
        ("no stem cell", "not booted"): without_stem_cells("process://?booted=0"),
    }
    times: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            apis: dict[tuple[str, str], tuple[aiohttp.ClientSession, str]] = {}
            for i, (key, env) in enumerate(configs.items()):
                server = StandaloneServer(Path(tmp) / f"s{i}", env=env)
                await asyncio.to_thread(server.start, 120.0)
                stack.callback(server.stop)
                ns = await asyncio.to_thread(server.create_namespace, "bench", **LIMITS)
                session = await stack.enter_async_context(session_for(ns.auth))
                apis[key] = (session, f"{server.url}/api/v1/namespaces/_/actions")
            await asyncio.sleep(2.0)  # stem cells and spares made
            for i in range(args.starts):
                for language in languages:
                    kind, code = {**CODE, **ZIPPED}[language]
                    keys = list(apis) if i % 2 == 0 else list(reversed(apis))
                    for key in keys:
                        session, api = apis[key]
                        url = f"{api}/new{language}{i}"
                        action = {
                            "exec": {"kind": kind, "code": code, "binary": language in ZIPPED}
                        }
                        async with session.put(url, json=action) as r:
                            assert r.status == 200, await r.text()
                        (ms,) = await sequential(session, f"{url}?blocking=true&result=true", 1, {})
                        times.setdefault((*key, language), []).append(ms)
                        await asyncio.sleep(SETTLE)
    print(
        f"first invoke of a new action through the platform, process mode, sandboxed, servers "
        f"in turns ({args.starts} each; load {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        " at the end)"
    )
    for language in languages:
        for stem in ("stem cell", "no stem cell"):
            booted = times[(stem, "booted", language)]
            plain = times[(stem, "not booted", language)]
            print(
                f"  {language:7} {stem:12}  booted {quartiles(booted)}  not booted "
                f"{quartiles(plain)} ms  ({statistics.median(booted) / statistics.median(plain):4.2f}x)"
            )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench cold-start", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--languages", default="python,nodejs,php,python-zip")
    parser.add_argument("--platform", action="store_true", help="through standalone servers")
    args = parser.parse_args(argv)
    eventloop.run(platform(args) if args.platform else run(args))
