"""`python -m bench first-invoke`: where a new action's first blocking invoke that takes a
stem cell spends its time, step by step, through the platform (process mode, sandboxed).

    python -m bench first-invoke [--actions N] [--warm N] [--settle S]
                                 [--config NAME=K=V,K=V ...]

Each configuration is a standalone server (`bench/phase_server.py`: the server's own code,
timestamps taken as an invoke passes each step); all run at once and are taken in turns,
the order alternating from round to round, so the machine's load falls on each alike. A
round, per server: create a new Python no-op action, invoke it blocking (the first invoke:
it takes the Python stem cell), invoke it `--warm` times more (the same steps warm, the
baseline of the same run), then wait `--settle` seconds for the stem cell and the spares to
be made again. Prints per server the client's figures (p50 and quartiles) and, per step,
the median time from the step before, first invoke beside warm: what the first invoke
costs beyond a warm one, and where.

By default one server (`today`); `--baseline DIR` adds one (`former`) running the code of
the checkout at DIR (e.g. `git worktree add DIR <commit>`; its folders are put first on the
server's path under the installed names); `--config` adds servers of other settings, e.g.
`--config refill-at-once=PYWHISK_STEM_REFILL_DELAY=0`, on the former code with
`PYTHONPATH=@baseline` among them.

The first invoke's /init and /run leave the machine's other work room: each taken stem cell
is replaced 0.1 s later and the booted spare that replacement took 0.3 s after that, both
within the default `--settle`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.clients import session_for
from bench.platform import CODE, LIMITS
from pywhisk.common import eventloop
from tests.support.server import StandaloneServer

STEPS = (
    "c.lane",
    "c.auth",
    "c.resolved",
    "c.message",
    "c.placed",
    "i.handle",
    "i.prepared",
    "i.acquired",
    "i.init",
    "i.inited",
    "i.run",
    "i.ran",
    "i.complete",
    "i.published",
    "c.answered",
    "c.sent",
)
SERVER = Path(__file__).resolve().parent / "phase_server.py"
PACKAGES = ("common", "controller", "invoker", "cli", "action_runtime", "deploy")


def baseline_path(checkout: Path, tmp: Path) -> str:
    """A folder whose `pywhisk/` links to `checkout`'s packages, to put first on a server's
    PYTHONPATH: it then runs that code under the installed names (as deploy/typecheck.sh
    shows mypy the tree)."""
    tree = tmp / "baseline" / "pywhisk"
    tree.mkdir(parents=True)
    for package in PACKAGES:
        (tree / package).symlink_to(checkout.resolve() / package)
    return str(tree.parent)


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    name, _, rest = text.partition("=")
    env = dict(pair.split("=", 1) for pair in rest.split(",") if pair)
    return name, env


def quartiles(values: list[float]) -> str:
    if not values:
        return "       -"
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{q[1]:6.2f} [{q[0]:5.2f}, {q[2]:5.2f}]"


def segments(marks: dict[str, int]) -> dict[str, float]:
    """ms from each step to the next one present."""
    present = [step for step in STEPS if step in marks]
    return {f"{a} → {b}": (marks[b] - marks[a]) / 1e6 for a, b in itertools.pairwise(present)}


async def invoke(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    began = time.perf_counter()
    async with session.post(url, json={}) as r:
        await r.read()
        assert r.status == 200, (r.status, await r.text())
        activation_id = r.headers["x-openwhisk-activation-id"]
    return (time.perf_counter() - began) * 1000, activation_id


async def run(args: argparse.Namespace) -> None:
    configs = {"today": {}, **dict(parse_config(c) for c in args.config)}
    client: dict[str, dict[str, list[float]]] = {}
    ids: dict[str, dict[str, str]] = {}  # per server: activation id -> first|warm
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp:
        if args.baseline is not None:
            former = baseline_path(Path(args.baseline), Path(tmp))
            configs = {"today": {}, "former": {"PYTHONPATH": "@baseline"}, **configs}
            for env in configs.values():
                if env.get("PYTHONPATH") == "@baseline":
                    env["PYTHONPATH"] = former
        for name in configs:
            client[name] = {"first": [], "warm": []}
            ids[name] = {}
        phases = {name: Path(tmp) / f"{name}.phases" for name in configs}
        async with contextlib.AsyncExitStack() as stack:
            apis: dict[str, tuple[aiohttp.ClientSession, str]] = {}
            for i, (name, env) in enumerate(configs.items()):
                server = StandaloneServer(
                    Path(tmp) / f"s{i}",
                    env={**env, "PYWHISK_BENCH_PHASES": str(phases[name])},
                    command=[sys.executable, "-P", str(SERVER)],
                )
                await asyncio.to_thread(server.start, 120.0)
                stack.callback(server.stop)
                ns = await asyncio.to_thread(server.create_namespace, "bench", **LIMITS)
                session = await stack.enter_async_context(session_for(ns.auth))
                apis[name] = (session, f"{server.url}/api/v1/namespaces/_/actions")
            await asyncio.sleep(2.0)  # stem cells and spares made
            for i in range(args.actions):
                names = list(apis) if i % 2 == 0 else list(reversed(apis))
                for name in names:
                    session, api = apis[name]
                    url = f"{api}/new{i}"
                    async with session.put(url, json=CODE) as r:
                        assert r.status == 200, await r.text()
                    ms, activation_id = await invoke(session, f"{url}?blocking=true&result=true")
                    client[name]["first"].append(ms)
                    ids[name][activation_id] = "first"
                    for _ in range(args.warm):
                        ms, activation_id = await invoke(
                            session, f"{url}?blocking=true&result=true"
                        )
                        client[name]["warm"].append(ms)
                        ids[name][activation_id] = "warm"
                    await asyncio.sleep(args.settle)
                loads.append(os.getloadavg()[0])
        steps: dict[str, dict[str, dict[str, list[float]]]] = {}
        for name, path in phases.items():
            steps[name] = {"first": {}, "warm": {}}
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                which = ids[name].get(entry["id"])
                if which is None:
                    continue
                marks = entry["marks"]
                spans = segments(marks)
                spans["server: c.lane → c.sent"] = (marks["c.sent"] - marks["c.lane"]) / 1e6
                for segment, ms in spans.items():
                    steps[name][which].setdefault(segment, []).append(ms)
    print(
        f"\nfirst invoke of a new Python action taking a stem cell, process mode, sandboxed; "
        f"{args.actions} new actions per server, {args.warm} warm invokes after each, servers "
        f"in turns; 1-minute load {min(loads):.1f} – {max(loads):.1f}"
    )
    for name in configs:
        env = configs[name]
        shown = [f"{k}={v}" for k, v in env.items() if k != "PYTHONPATH"]
        if "PYTHONPATH" in env:
            shown.append(f"the code at {args.baseline}")
        print(f"\n{name} ({', '.join(shown) or 'defaults'})")
        first, warm = client[name]["first"], client[name]["warm"]
        print(f"  client, first invoke  p50 {quartiles(first)} ms")
        print(f"  client, warm invoke   p50 {quartiles(warm)} ms")
        print(f"  {'step (ms from the one before)':44} {'first p50 [q1, q3]':>22} {'warm p50':>9}")
        order = [*steps[name]["first"], *steps[name]["warm"]]
        for segment in dict.fromkeys(order):
            a = steps[name]["first"].get(segment, [])
            b = steps[name]["warm"].get(segment, [])
            warm_p50 = f"{statistics.median(b):9.2f}" if b else "        -"
            print(f"  {segment:44} {quartiles(a):>22} {warm_p50}")
    print()
    today = statistics.median(client["today"]["first"])
    for name in list(configs)[1:]:
        ratio = today / statistics.median(client[name]["first"])
        print(f"first invoke p50, today / {name}: {ratio:.2f}x")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench first-invoke", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--actions", type=int, default=20, help="new actions per server")
    parser.add_argument("--warm", type=int, default=3, help="warm invokes after each first")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds after each new action")
    parser.add_argument(
        "--config", action="append", default=[], help="NAME=K=V,K=V: another server's settings"
    )
    parser.add_argument("--baseline", help="a checkout of the former code: a server runs it too")
    eventloop.run(run(parser.parse_args(argv)))
