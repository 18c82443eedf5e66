"""The Kafka queue alone on tansu: our own Produce and Fetch requests against aiokafka's.

    python -m bench queue [--messages N] [--burst N] [--rounds R]

One process sends on a topic and consumes it (`KafkaQueue`, as a controller sends an
activation and an invoker fetches it; the consumer always waiting for the next message, as
an invoker's is, so a fetch waits at the broker when a message is sent), with `client=lean` and `client=aiokafka` in turns,
the order reversed every other round, each on topics of its own. Measured per client:
the time from `send` to the consumer's delivery of one message at a time (p50, p99), this
process's CPU per message then (the send's request and answer, the fetch's, the waits'
wake-ups), and its CPU per message when `--burst` messages are sent at once and consumed.
The broker is a separate process; its CPU is not counted. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.clients import percentile
from pywhisk.common.queue.kafka import KafkaQueue

CLIENTS = ("lean", "aiokafka")


async def measure(url: str, messages: int, burst: int) -> dict[str, float]:
    queue = KafkaQueue(url)
    await queue.open()
    consumer = await queue.consumer("invoker0", "invoker0")
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def consume() -> None:
        # Always waiting for the next message, as an invoker's consumer is: a fetch is
        # waiting at the broker when a message is sent.
        async for _ in consumer:
            arrived.put_nowait(loop.time())

    reading = loop.create_task(consume())
    try:
        for _ in range(50):  # connections, metadata, the busy fetch wait
            await queue.send("invoker0", b"warm")
            await arrived.get()
        latencies = []
        cpu = time.process_time()
        for i in range(messages):
            started = loop.time()
            await queue.send("invoker0", b"m%d" % i)
            latencies.append((await arrived.get() - started) * 1000)
        one_by_one = (time.process_time() - cpu) / messages
        cpu = time.process_time()
        await asyncio.gather(*(queue.send("invoker0", b"b%d" % i) for i in range(burst)))
        for _ in range(burst):
            await arrived.get()
        in_burst = (time.process_time() - cpu) / burst
    finally:
        await consumer.close()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await queue.close()
    return {
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "cpu_one": one_by_one * 1e6,
        "cpu_burst": in_burst * 1e6,
    }


async def run(args: argparse.Namespace) -> None:
    from tests.support.kafka import TansuBroker

    load = os.getloadavg()[0]
    results: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        broker = TansuBroker(Path(tmp) / "tansu.log")
        await asyncio.to_thread(broker.start)
        try:
            for n in range(args.rounds):
                for client in CLIENTS if n % 2 == 0 else CLIENTS[::-1]:
                    url = f"{broker.url}?prefix=r{n}{client}_&client={client}"
                    got = await measure(url, args.messages, args.burst)
                    results[client].append(got)
                    print(
                        f"round {n + 1}, {client}: {got['p50']:.2f} / {got['p99']:.2f} ms, "
                        f"{got['cpu_one']:.0f} µs one by one, {got['cpu_burst']:.0f} µs in a burst",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            await asyncio.to_thread(broker.stop)
    print(
        f"KafkaQueue on tansu, one process sending and consuming; {args.rounds} rounds, "
        f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        "median (range) over the rounds"
    )
    rows = [
        ("send to delivery p50, ms", "p50"),
        ("send to delivery p99, ms", "p99"),
        ("CPU µs per message, one by one", "cpu_one"),
        (f"CPU µs per message, bursts of {args.burst}", "cpu_burst"),
    ]
    print(f"{'':<38}{'lean':>24}{'aiokafka':>24}{'lean/aiokafka':>16}")
    for label, key in rows:
        cells = []
        for client in CLIENTS:
            values = [r[key] for r in results[client]]
            med = statistics.median(values)
            cells.append(f"{med:.2f} ({min(values):.2f}-{max(values):.2f})")
        ratios = [
            lean[key] / former[key]
            for lean, former in zip(results["lean"], results["aiokafka"], strict=True)
        ]
        print(f"{label:<38}{cells[0]:>24}{cells[1]:>24}{statistics.median(ratios):>15.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench queue", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=1000, help="sent one at a time")
    parser.add_argument("--burst", type=int, default=1000, help="sent at once")
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(run(parser.parse_args(argv)))
