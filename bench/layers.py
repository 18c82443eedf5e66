"""`python -m bench layers`: what an action's layers cost its cold starts.

    python -m bench layers [--starts N] [--mb M] [--docker]

One sandboxed process container factory (Docker's too with --docker). A layer of about M MB
(one incompressible file of half of it, as an interpreter binary is, and 400 small scripts
and libraries with their symlinks) is merged once, as the invoker does per action revision.
Then, alternating so that the machine's load hits each alike, N cold starts (create, /init,
first /run, destroy) of a no-op Python action:

    bare       no layers
    layered    the layer written by the invoker before /init, read-only at /opt
    in zip     the same files inside the action's own zip instead, unpacked by the proxy
               into its work dir (how layers were unpacked before they moved to /opt)
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from bench.sandbox_factory import RUN
from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.runtimes import default_manifest
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.base import Container, ContainerFactory, factory_from_url
from pywhisk.invoker.containers.layer_tree import LayerTree

NOOP = "def main(args):\n    return {}\n"


def layer_files(mb: int) -> list[tuple[str, bytes, int]]:
    """(path, data, mode): a binary, scripts and libraries with version symlinks."""
    files = [("bin/interpreter", os.urandom(mb * 1024 * 1024 // 2), 0o100755)]
    small = mb * 1024 * 1024 // 2 // 400
    for i in range(200):
        files.append((f"bin/tool{i}", b"#!/bin/sh\n" + b"# " * (small // 2), 0o100755))
        files.append((f"lib/libx{i}.so.1", os.urandom(small // 4) * 4, 0o100644))
    for i in range(50):
        files.append((f"lib/libx{i}.so", f"libx{i}.so.1".encode(), 0o120777))
    return files


def zipped(files: list[tuple[str, bytes, int]], extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path)
            info.external_attr = mode << 16
            archive.writestr(info, data)
        for path, text in (extra or {}).items():
            archive.writestr(path, text)
    return buffer.getvalue()


def client(container: Container) -> ContainerClient:
    """As the invoker talks to it: its socket or address, with its runtime token if any."""
    return ContainerClient(
        container.host,
        container.port,
        1 << 26,
        alive=lambda: not container.exited,
        token=container.token,
        unix_path=container.socket_path,
    )


def init_body(code: str, binary: bool, opt: str | None) -> bytes:
    value = {"name": "noop", "main": "main", "code": code, "binary": binary, "env": {}}
    if opt is not None:
        value["opt"] = opt
    return json.dumps({"value": value}).encode()


async def cold_start(
    factory: ContainerFactory, name: str, code: str, binary: bool, tree: LayerTree | None
) -> tuple[float, float]:
    """ms from create to the first /run's answer, and of that the layers' part."""
    runtime = default_manifest().resolve("python:3.11")
    assert runtime is not None
    began = time.perf_counter()
    container = await factory.create(name, runtime, 256)
    c = client(container)
    try:
        layers_ms = 0.0
        opt = None
        if tree is not None:
            before = time.perf_counter()
            opt = await container.add_layers(tree)
            layers_ms = (time.perf_counter() - before) * 1000
        assert (await c.init(init_body(code, binary, opt), 60_000)).response is None
        assert (await c.run(RUN, 60_000)).healthy
        return (time.perf_counter() - began) * 1000, layers_ms
    finally:
        await c.close()
        await container.destroy()


def timed(fn: Callable[[], object], n: int = 5) -> float:
    """Median ms of `fn` over n calls."""
    times = []
    for _ in range(n):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def run(args: argparse.Namespace) -> None:
    files = layer_files(args.mb)
    layer_zip = zipped(files)
    layer = {"name": "bench/layer", "code": base64.b64encode(layer_zip).decode()}
    merge_ms = timed(lambda: LayerTree.of([layer], 256 * 1024 * 1024))
    tree = LayerTree.of([layer], 256 * 1024 * 1024)
    in_zip = base64.b64encode(zipped(files, {"__main__.py": NOOP})).decode()
    print(
        f"a layer of {sum(len(d) for _, d, _ in files) / 1e6:.1f} MB in {len(files)} files "
        f"({len(layer_zip) / 1e6:.1f} MB zipped): merged once per revision in {merge_ms:.1f} ms"
    )
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # noqa: ASYNC240 - set-up, before anything runs
        write_ms = timed(lambda: write_dir(tree, root))
        print(f"  written into a directory: {write_ms:.1f} ms; as a tar: {tar_ms(tree):.1f} ms")
        urls = {"process": f"process://{root}/p?sandbox=on"}
        if args.docker:
            urls["docker"] = "docker://"
        for mode, url in urls.items():
            factory = factory_from_url(url, Settings(installation_id="pywhisk-bench"), 5)
            await factory.start()
            samples: dict[str, list[float]] = {"bare": [], "layered": [], "in zip": []}
            layers_part: list[float] = []
            try:
                for i in range(args.starts):
                    bare, _ = await cold_start(factory, f"b{i}", NOOP, False, None)
                    layered, part = await cold_start(factory, f"l{i}", NOOP, False, tree)
                    zip_, _ = await cold_start(factory, f"z{i}", in_zip, True, None)
                    samples["bare"].append(bare)
                    samples["layered"].append(layered)
                    samples["in zip"].append(zip_)
                    layers_part.append(part)
            finally:
                await factory.close()
            p50 = {name: statistics.median(v) for name, v in samples.items()}
            print(f"{mode} containers, cold start p50 over {args.starts} alternating starts each:")
            for name, value in p50.items():
                print(f"  {name:8} {value:7.1f} ms")
            print(
                f"  the layer adds {p50['layered'] - p50['bare']:+6.1f} ms "
                f"(add_layers p50 {statistics.median(layers_part):.1f} ms); the same files "
                f"in the action's zip add {p50['in zip'] - p50['bare']:+6.1f} ms"
            )


def write_dir(tree: LayerTree, root: Path) -> None:
    from pywhisk.invoker.containers import layer_tree

    target = root / "write"
    target.mkdir()
    tree.write_into(target)
    layer_tree.remove(target)


def tar_ms(tree: LayerTree) -> float:
    def write() -> None:
        with tempfile.TemporaryFile() as out:
            tree.write_tar(out)

    return timed(write)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench layers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--docker", action="store_true")
    eventloop.run(run(parser.parse_args(argv)))
