"""Warm invokes through the cluster preset (controller → Kafka → invoker) beside standalone.

    python -m bench cluster [--requests N] [--seconds S] [--clients C] [--warmup N]
                            [--split N] [--idle S] [--quiet N] [--store couchdb|sqlite]
                            [--fetch-wait-ms MS] [--idle-wait-ms MS] [--invokers 1,2]
                            [--kafka-client lean,aiokafka] [--rounds N]

Measures, in one run and with the same aiohttp clients as `python -m bench`: a standalone
server (the baseline), then a cluster of real processes, one `pywhisk controller` and one,
then two, `pywhisk invoker --id N` (process containers, as the standalone server) on tansu
(a Kafka-protocol broker) and pouchdb-server (CouchDB's API, in memory), each started fresh.
Latency is p50/p99 of sequential blocking invokes of one no-op action; throughput is
`--clients` concurrent loops of blocking invokes, each on an action of its own, named so
that their home invokers alternate: with two invokers both get the same share. Every
process shares the machine's cores with the client. Below the figures: where an invoke's
time goes (the hop there, the run, the way back, from the records' waitTime and duration),
and CPU time by part (bench/cpu.py) per invoke under load and while idle, and the latency
of an invoke after two quiet seconds (`--quiet` of them: the consumers' fetches are long
then, `common/queue/kafka_consumer.py`). `--store sqlite`, `--fetch-wait-ms` and
`--idle-wait-ms` change one thing at a time, to attribute a cost. `--kafka-client` names
who makes the queue's Produce and Fetch requests (`lean`, our own, the default; `aiokafka`,
the former path), each a cluster of its own measured in turn; `--rounds N` measures
everything N times, the order of the clusters reversed every other round, and ends with
each figure's median and range over the rounds (bench/cluster_summary.py), every ratio
taken against the standalone server of its own round. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bench.clients import percentile, sequential, session_for, spread_throughput
from bench.cluster_summary import summarize
from bench.cpu import PARTS, cpu_by_part, used
from bench.platform import CODE, LIMITS, platform
from pywhisk.common.queue.kafka_consumer import FETCH_WAIT_MS, IDLE_WAIT_MS
from pywhisk.controller.core.sharding import generate_hash, probe_order

NAMESPACE = "bench"
SPLIT = ("total", "there", "run", "back")
QUIET = 2.0  # s of nothing before each of the `--quiet` invokes
WIDTH = 30  # of a row's label
_started = time.monotonic()


def progress(line: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f} s] {line}", file=sys.stderr, flush=True)


def action_names(count: int) -> list[str]:
    """`count` action names whose home invokers, in a cluster of two, go 0, 1, 0, 1, …
    (the controller's own sharding functions, so the split is exact)."""
    names: list[str] = []
    k = 0
    while len(names) < count:
        name = f"noop{k}"
        if probe_order(generate_hash(NAMESPACE, f"{NAMESPACE}/{name}"), 2)[0] == len(names) % 2:
            names.append(name)
        k += 1
    return names


async def figures(s: aiohttp.ClientSession, api: str, args: argparse.Namespace) -> dict[str, Any]:
    names = action_names(args.clients)
    for name in names:
        async with s.put(f"{api}/{name}?overwrite=true", json=CODE) as r:
            assert r.status == 200, await r.text()
    urls = [f"{api}/{name}?blocking=true&result=true" for name in names]
    for url in urls:  # each action's container warm, and the controller's caches
        await sequential(s, url, args.warmup, {})
    idle: dict[str, float] = {}
    if args.idle:  # what the parts burn while nothing happens: consumers polling, pings
        before = cpu_by_part()
        await asyncio.sleep(args.idle)
        idle = {part: t / args.idle for part, t in used(before, cpu_by_part()).items()}
    latency = await sequential(s, urls[0], args.requests, {})
    split = await time_split(s, urls[0].replace("&result=true", ""), args.split)
    after_quiet = []
    for _ in range(args.quiet):
        await asyncio.sleep(QUIET)
        after_quiet += await sequential(s, urls[0], 1, {})
    before, started = cpu_by_part(), time.perf_counter()
    rps = await spread_throughput(s, urls, args.seconds, {})
    invokes = rps * (time.perf_counter() - started)
    busy = {part: t / invokes for part, t in used(before, cpu_by_part()).items()}
    return {
        "latency": latency,
        "rps": rps,
        "idle": idle,
        "busy": busy,
        "split": split,
        "after_quiet": after_quiet,
    }


async def time_split(s: aiohttp.ClientSession, url: str, n: int) -> dict[str, list[float]]:
    """Sequential blocking invokes that answer with the record: the client's time split into
    the record's waitTime ("there": the controller's receipt to the run's start, the hop to
    the invoker), its duration ("run"), and the rest ("back": the completion's hop back, the
    controller's answer, HTTP)."""
    split: dict[str, list[float]] = {k: [] for k in SPLIT}
    for _ in range(n):
        started = time.perf_counter()
        async with s.post(url, json={}) as r:
            record = await r.json()
            assert r.status == 200, record
        total = (time.perf_counter() - started) * 1000
        wait = next(a["value"] for a in record["annotations"] if a["key"] == "waitTime")
        split["total"].append(total)
        split["there"].append(wait)
        split["run"].append(record["duration"])
        split["back"].append(total - wait - record["duration"])
    return split


@asynccontextmanager
async def cluster(
    root: Path, store_url: str, queue_url: str, invokers: int
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A controller and `invokers` invokers, once the controller sees them all up, and a
    client session for a high-limit namespace."""
    from tests.support.cluster import Cluster
    from tests.support.server import create_namespace

    parts = Cluster(root, store_url, queue_url)
    try:
        parts.start_controller()
        for n in range(invokers):
            parts.start_invoker(n)
        await asyncio.to_thread(parts.wait_for_controller, 60.0)
        up = {f"invoker{n}": "up" for n in range(invokers)}
        await asyncio.to_thread(parts.wait_for_invokers, up, 60.0)
        progress(f"controller and {invokers} invoker(s) up, logs in {root}")
        ns = await asyncio.to_thread(create_namespace, store_url, NAMESPACE, **LIMITS)
        async with session_for(ns.auth) as session:
            yield session, f"{parts.url}/api/v1/namespaces/_/actions"
    finally:
        await asyncio.to_thread(parts.stop)


async def services(stack: AsyncExitStack, tmp: Path, store: str) -> tuple[str, str]:
    """tansu, and pouchdb-server unless `store` is sqlite: the (store, queue) URL stems."""
    from tests.support.couchdb import PouchDBServer
    from tests.support.kafka import TansuBroker

    progress("starting tansu (Kafka-protocol broker, memory storage)")
    broker = TansuBroker(tmp / "tansu.log")
    await asyncio.to_thread(broker.start)
    stack.callback(broker.stop)
    progress(f"tansu up at {broker.address}")
    if store == "sqlite":
        return f"sqlite:///{tmp}/", broker.url
    progress("starting pouchdb-server (CouchDB API, in memory; installed with npm on first use)")
    couch = PouchDBServer(tmp / "pouchdb")
    await asyncio.to_thread(couch.start)
    stack.callback(couch.stop)
    progress(f"pouchdb-server up at {couch.http_url}")
    return couch.store_url(""), broker.url


def setup_urls(
    stems: tuple[str, str],
    tag: str,
    fetch_wait_ms: int | None,
    idle_wait_ms: int | None = None,
    client: str | None = None,
) -> tuple[str, str]:
    """Store and queue URLs of a setup of its own: fresh databases, fresh topics."""
    store, queue = stems
    store = f"{store}{tag}.db" if store.startswith("sqlite") else f"{store}{tag}_"
    queue += f"?prefix={tag}_"
    if client is not None:
        queue += f"&client={client}"
    if fetch_wait_ms is not None:
        queue += f"&fetch_wait_ms={fetch_wait_ms}"
    if idle_wait_ms is not None:
        queue += f"&idle_wait_ms={idle_wait_ms}"
    return store, queue


def row(label: str, got: dict[str, Any], base: dict[str, Any]) -> str:
    p50, p99 = statistics.median(got["latency"]), percentile(got["latency"], 0.99)
    ratio = p50 / statistics.median(base["latency"])
    return (
        f"{label:<{WIDTH}} {p50:8.2f} {p99:8.2f} {ratio:8.2f}x"
        f" {got['rps']:12,.0f} {got['rps'] / base['rps']:8.2f}x"
    )


def cpu_table(results: dict[str, dict[str, Any]], key: str, scale: float) -> None:
    parts = ["client", *(part for _, part in PARTS)]
    shown = [p for p in parts if any(p in got[key] for got in results.values())]
    print(f"{'':<{WIDTH}}{''.join(f'{p:>11}' for p in [*shown, 'total'])}")
    for label, got in results.items():
        by_part = got[key]
        cells = [f"{by_part[p] * scale:11.2f}" if p in by_part else f"{'-':>11}" for p in shown]
        print(f"{label:<{WIDTH}}{''.join(cells)}{sum(by_part.values()) * scale:11.2f}")


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, load: float) -> None:
    store = "SQLite file" if args.store == "sqlite" else "pouchdb-server 4.2.0 (CouchDB API)"
    wait = FETCH_WAIT_MS if args.fetch_wait_ms is None else args.fetch_wait_ms
    idle_wait = IDLE_WAIT_MS if args.idle_wait_ms is None else args.idle_wait_ms
    cores = os.cpu_count() or 1
    print(
        f"no-op python action, process containers, {cores} cores, load average "
        f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print(
        f"cluster: tansu (fetch wait: {wait} ms, {idle_wait} ms after a quiet second), "
        f"store: {store}"
    )
    print(
        f"latency: {args.requests} sequential blocking invokes; throughput: {args.clients} "
        f"clients for {args.seconds:g} s, one action each"
    )
    print(
        f"{'':<{WIDTH}} {'p50 ms':>8} {'p99 ms':>8} {'p50/base':>9} {'invokes/s':>12} {'/base':>9}"
    )
    for label, got in results.items():
        print(row(label, got, results["standalone"]))
    if args.split:
        print(
            f"where an invoke's time goes, p50 ms of {args.split} sequential invokes answered "
            "with the record: there = waitTime (controller to the run's start; a ms clock), "
            "back = the run's end to the client"
        )
        print(f"{'':<{WIDTH}}{''.join(f'{k:>11}' for k in SPLIT)}")
        for label, got in results.items():
            cells = (statistics.median(got["split"][k]) for k in SPLIT)
            print(f"{label:<{WIDTH}}{''.join(f'{c:11.2f}' for c in cells)}")
    print(
        f"CPU ms per invoke in the throughput run ({cores} cores: 1 ms per invoke caps the "
        f"rate at {1000 * cores:,}/s)"
    )
    cpu_table(results, "busy", 1000)
    if args.quiet:
        print(f"latency after {QUIET:g} quiet seconds, ms, each of {args.quiet} invokes")
        for label, got in results.items():
            print(f"{label:<{WIDTH}} {' '.join(f'{t:.1f}' for t in got['after_quiet'])}")
    if args.idle:
        print(f"CPU when idle, % of a core ({args.idle:g} s after the warm-up, before any load)")
        cpu_table(results, "idle", 100)


def label_of(invokers: int, client: str, clients: list[str]) -> str:
    label = f"cluster, {invokers} invoker{'s' if invokers > 1 else ''}"
    return label if len(clients) == 1 else f"{label}, {client}"


async def run(args: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(
        prefix="bench-cluster-", ignore_cleanup_errors=True
    ) as tmp_name:
        tmp = Path(tmp_name)
        async with AsyncExitStack() as stack:
            # Up before the first standalone server, so that every round's baseline runs
            # beside the same idle broker and store.
            stems = await services(stack, tmp, args.store)
            for n_round in range(args.rounds):
                results: dict[str, dict[str, Any]] = {}
                progress(f"round {n_round + 1} of {args.rounds}: the standalone server")
                async with platform(tmp, f"standalone{n_round}") as (s, api):
                    progress("standalone up; measuring")
                    results["standalone"] = await figures(s, api, args)
                clients = args.kafka_client if n_round % 2 == 0 else args.kafka_client[::-1]
                for n in args.invokers:
                    for client in clients:
                        tag = f"r{n_round}c{n}{client}"
                        store_url, queue_url = setup_urls(
                            stems, tag, args.fetch_wait_ms, args.idle_wait_ms, client
                        )
                        progress(f"starting a controller and {n} invoker(s), {client} client")
                        async with cluster(tmp / tag, store_url, queue_url, n) as (s, api):
                            progress("measuring")
                            label = label_of(n, client, args.kafka_client)
                            results[label] = await figures(s, api, args)
                ordered = ["standalone"] + [
                    label_of(n, c, args.kafka_client)
                    for n in args.invokers
                    for c in args.kafka_client
                ]
                results = {label: results[label] for label in ordered}
                report(results, args, load)
                rounds.append(results)
                load = os.getloadavg()[0]
    if len(rounds) > 1:
        summarize(rounds, WIDTH)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench cluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=200, help="invokes per action first")
    parser.add_argument("--split", type=int, default=200, help="invokes timed part by part")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--quiet", type=int, default=5, help="invokes timed after quiet seconds")
    parser.add_argument(
        "--store", choices=["couchdb", "sqlite"], default="couchdb", help="the cluster's store"
    )
    parser.add_argument(
        "--fetch-wait-ms", type=int, default=None, help="the consumers' fetch wait at tansu"
    )
    parser.add_argument(
        "--idle-wait-ms", type=int, default=None, help="their fetch wait after a quiet second"
    )
    parser.add_argument(
        "--invokers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="cluster sizes to measure, comma-separated",
    )
    parser.add_argument(
        "--kafka-client",
        type=lambda text: text.split(","),
        default=["lean"],
        help="who makes the queue's Produce and Fetch requests: lean (ours), aiokafka, or both",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times everything is measured")
    asyncio.run(run(parser.parse_args(argv)))
