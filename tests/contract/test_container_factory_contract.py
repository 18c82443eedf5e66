"""The container-factory contract, written once and run per backend (like OW's behaviours).

`ContainerFactoryBehavior` holds every test; a backend subclasses it, provides the `factory`
fixture (started, closed after the test) and `kill_from_outside` (what an OOM killer or an
operator would do) and `paused`. Process and Docker containers are subclassed here.
Everything is real: real runtime processes, real interpreters, real sockets, a real engine.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.entities.activation import Status
from pywhisk.common.runtimes import Runtime, default_manifest
from pywhisk.invoker import outcomes
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.base import (
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
    factory_from_url,
)
from pywhisk.invoker.containers.docker import DockerContainer, DockerContainerFactory
from pywhisk.invoker.containers.docker_attach import release
from pywhisk.invoker.containers.layer_tree import LayerTree
from pywhisk.invoker.containers.logs import SENTINEL
from pywhisk.invoker.containers.process import ProcessContainer, ProcessContainerFactory
from tests.support.docker import TEST_INVOKER_ID, docker, inspect, runtime_images
from tests.support.lambda_zip import ZLIB, zlib_version
from tests.support.polling import wait_until_async
from tests.support.prerequisites import require

MIB = 1024 * 1024
PYTHON = default_manifest().resolve("python:3.11")
# Docker factories here mark their containers as a test installation's, not as those of
# the user's own standalone server (whose id lives in the default data directory).
TEST_SETTINGS = Settings(installation_id="pywhisk-test")
assert PYTHON is not None


def init_body(code: str, env: dict[str, str] | None = None, opt: str | None = None) -> bytes:
    value = {"name": "t", "main": "main", "binary": False, "code": code, "env": env or {}}
    if opt is not None:
        value["opt"] = opt
    return json.dumps({"value": value}).encode()


def tools_layer() -> dict[str, str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in (
            ("bootstrap", b"#!/bin/sh\necho booted\n", 0o755),
            ("bin/tool", b"#!/bin/sh\necho tool from $(dirname $0)\n", 0o755),
            ("lib/libpwz.so.1", ZLIB.read_bytes(), 0o644),
            ("lib/libpwz.so", b"libpwz.so.1", stat.S_IFLNK | 0o777),
        ):
            info = zipfile.ZipInfo(path)
            info.external_attr = (mode if mode & stat.S_IFLNK else mode | stat.S_IFREG) << 16
            archive.writestr(info, data)
    return {"name": "ns/tools", "code": base64.b64encode(buffer.getvalue()).decode()}


LAYERED_ACTION = """\
import os, subprocess

LOAD = "import ctypes; z = ctypes.CDLL('libpwz.so'); z.zlibVersion.restype = ctypes.c_char_p; print(z.zlibVersion().decode())"

def attempt(write):
    try:
        write()
        return "done"
    except OSError as exc:
        return exc.strerror

def main(args):
    opt = args["opt"]
    def run(*argv):
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    return {
        "bootstrap": run(opt + "/bootstrap"),
        "tool": run("tool"),  # found on PATH
        "lib": run("python3", "-c", LOAD),  # found on LD_LIBRARY_PATH
        "writes": {
            "new file": attempt(lambda: open(opt + "/new", "w").close()),
            "overwrite": attempt(lambda: open(opt + "/bin/tool", "a").close()),
            "chmod": attempt(lambda: os.chmod(opt + "/bin", 0o777)),
            "mkdir": attempt(lambda: os.mkdir(opt + "/lib/more")),
            "rename": attempt(lambda: os.rename(opt + "/bin/tool", opt + "/tool")),
            "unlink": attempt(lambda: os.unlink(opt + "/lib/libpwz.so")),
        },
    }
"""


def run_body(value: Any) -> bytes:
    return json.dumps({"value": value, "activation_id": "a" * 32, "deadline": "0"}).encode()


class Started:
    """A container plus a client talking to it, closed together."""

    def __init__(self, container: Container) -> None:
        self.container = container
        # As the invoker does: nothing connects to a container known to be gone.
        self.client = ContainerClient(
            container.host,
            container.port,
            MIB,
            alive=lambda: not container.exited,
            token=container.token,
            unix_path=container.socket_path,
        )

    async def init(self, code: str, opt: str | None = None) -> None:
        reply = await self.client.init(init_body(code, opt=opt), 10_000)
        assert reply.response is None, reply.response

    async def run(self, value: Any, timeout_ms: int = 10_000) -> Any:
        reply = await self.client.run(run_body(value), timeout_ms)
        assert reply.response is not None
        return reply.response


class ContainerFactoryBehavior:
    async def kill_from_outside(self, container: Container) -> None:
        raise NotImplementedError

    async def paused(self, container: Container) -> bool:
        """Whether the container's processes are frozen, as the system reports it."""
        raise NotImplementedError

    async def until_paused(self, container: Container, expected: bool) -> None:
        await wait_until_async(
            lambda: self.paused(container),
            f"the container {'paused' if expected else 'resumed'}, as the system reports it",
            timeout=5,
            interval=0.005,
            until=lambda paused: paused == expected,
        )

    @pytest.fixture
    async def started(self, factory: ContainerFactory) -> AsyncIterator[list[Started]]:
        made: list[Started] = []
        yield made
        for s in made:
            await s.client.close()
            await s.container.destroy()

    async def start(self, factory: ContainerFactory, made: list[Started], n: int = 0) -> Started:
        assert PYTHON is not None
        s = Started(await factory.create(f"ct{os.getpid()}_{len(made)}_{n}", PYTHON, 256))
        made.append(s)
        return s

    async def test_start_init_run(self, factory: ContainerFactory, started: list[Started]) -> None:
        s = await self.start(factory, started)
        assert not s.container.exited
        await s.init("def main(args):\n    return {'echo': args}\n")
        response = await s.run({"x": 1})
        assert response.status == Status.SUCCESS and response.result == {"echo": {"x": 1}}

    async def test_containers_are_independent(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        one, two = await asyncio.gather(
            self.start(factory, started, 1), self.start(factory, started, 2)
        )

        def address(c: Container) -> tuple[str, int, str | None]:
            return (c.host, c.port, c.socket_path)

        assert address(one.container) != address(two.container)
        await one.init("def main(a):\n    return {'who': 'one'}\n")
        await two.init("def main(a):\n    return {'who': 'two'}\n")
        assert (await one.run({})).result == {"who": "one"}
        assert (await two.run({})).result == {"who": "two"}

    async def test_environment_is_minimal(
        self, factory: ContainerFactory, started: list[Started], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PYWHISK_SECRET_FOR_TEST", "do-not-leak")
        s = await self.start(factory, started)
        await s.init("import os\ndef main(a):\n    return dict(os.environ)\n")
        env = (await s.run({})).result
        assert "PYWHISK_SECRET_FOR_TEST" not in env
        assert not any(k.startswith("PYWHISK") for k in env)
        assert env["__OW_API_HOST"] == "http://127.0.0.1:3233"
        assert env["__OW_ACTIVATION_ID"] == "a" * 32

    async def test_layers_run_from_opt_and_cannot_be_changed(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        """Lambda's /opt: a layer's bootstrap, its bin/ on PATH and lib/ on the library
        path; the action can change none of it, not even by chmod."""
        s = await self.start(factory, started)
        opt = await s.container.add_layers(LayerTree.of([tools_layer()], MIB))
        await s.init(LAYERED_ACTION, opt=opt)
        result = (await s.run({"opt": opt})).result
        assert result["bootstrap"] == "booted"
        assert result["tool"] == f"tool from {opt}/bin"
        assert result["lib"] == zlib_version()  # a real library, on the library path
        refused = set(result["writes"].values())
        assert "done" not in refused, result["writes"]

    async def test_logs_are_cut_at_sentinels_and_formatted(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        code = (
            "import sys\n"
            "def main(a):\n"
            "    print('out', a['n'])\n"
            "    print('err', a['n'], file=sys.stderr)\n"
            "    return {}\n"
        )
        await s.init(code)
        await s.run({"n": 1})
        await s.run({"n": 2})
        first = await s.container.logs(MIB, wait_for_sentinels=True)
        second = await s.container.logs(MIB, wait_for_sentinels=True)
        # Across streams, order is arrival order: Python buffers stdout into a pipe but not
        # stderr, so only the set of lines per activation is fixed.
        assert sorted(line[31:] for line in first) == ["stderr: err 1", "stdout: out 1"]
        assert sorted(line[31:] for line in second) == ["stderr: err 2", "stdout: out 2"]
        assert first == sorted(first)  # merged by time
        stamp = first[0][:30]
        assert len(stamp.rstrip()) == 30 and stamp.endswith("Z") and stamp[10] == "T"
        assert not any(SENTINEL in line for line in first + second)

    async def test_logs_over_the_limit_are_truncated(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        await s.init(
            "def main(a):\n    for i in range(100):\n        print('x' * 99)\n    return {}\n"
        )
        await s.run({})
        lines = await s.container.logs(1000, wait_for_sentinels=True)
        assert len(lines) == 11
        assert lines[-1].endswith(
            "stderr: Logs were truncated because the total bytes size exceeds the limit of "
            "1000 bytes."
        )
        # The rest of that activation is dropped, not left for the next one.
        await s.run({})
        assert len(await s.container.logs(MIB, wait_for_sentinels=True)) == 100

    async def test_destroy(self, factory: ContainerFactory, started: list[Started]) -> None:
        s = await self.start(factory, started)
        await s.init("def main(a):\n    print('bye')\n    return {}\n")
        await s.run({})
        await s.container.destroy()
        assert s.container.exited
        await s.container.destroy()  # idempotent
        response = await s.run({})
        assert response.result == {"error": outcomes.ABNORMAL_RUN}
        # Logs written before the end stay readable.
        lines = await s.container.logs(MIB, wait_for_sentinels=False)
        assert [line[31:] for line in lines] == ["stdout: bye"]

    async def test_killed_container_is_detected(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        await s.init("def main(a):\n    return {}\n")
        assert (await s.run({})).status == Status.SUCCESS
        await self.kill_from_outside(s.container)
        await wait_until_async(
            lambda: s.container.exited, "the killed container seen exited", timeout=5, interval=0.01
        )
        response = await s.run({})
        assert response.status == Status.DEVELOPER_ERROR
        assert response.result == {"error": outcomes.ABNORMAL_RUN}

    async def test_pause_and_resume(
        self, factory: ContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        await s.init("def main(a):\n    return {'n': a['n']}\n")
        assert (await s.run({"n": 1})).result == {"n": 1}
        await s.container.pause()
        await self.until_paused(s.container, True)  # a signal arrives a bit later
        await s.container.resume()
        await self.until_paused(s.container, False)
        assert (await s.run({"n": 2})).result == {"n": 2}  # the kept-alive connection too
        await s.container.destroy()
        with pytest.raises(ContainerError):
            await s.container.resume()

    async def test_missing_interpreter_names_what_to_install(
        self, factory: ContainerFactory
    ) -> None:
        runtime = Runtime(
            kind="cobol:85",
            family="cobol",
            language="python",
            default=True,
            image="none",
            commands=("no-such-cobol-85", "cobc"),
            install="apt-get install open-cobol",
        )
        with pytest.raises(RuntimeUnavailable) as info:
            await factory.create("nocobol", runtime, 256)
        assert str(info.value) == (
            "The cobol:85 runtime needs the 'cobc' command, which is not installed on this "
            "invoker (apt-get install open-cobol)."
        )


# -- process containers ------------------------------------------------------------------------


@pytest.fixture
def root() -> Iterator[Path]:
    """A container root `nobody` can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="pywhisk-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["on", "off"], ids=["sandboxed", "unsandboxed"])
async def factory(
    root: Path, request: pytest.FixtureRequest
) -> AsyncIterator[ProcessContainerFactory]:
    f = factory_from_url(f"process://{root}?sandbox={request.param}", Settings(), 0)
    assert isinstance(f, ProcessContainerFactory)
    await f.start()
    yield f
    await f.close()


class TestProcessContainers(ContainerFactoryBehavior):
    async def kill_from_outside(self, container: Container) -> None:
        assert isinstance(container, ProcessContainer)
        os.killpg(container.pid, signal.SIGKILL)

    async def paused(self, container: Container) -> bool:
        assert isinstance(container, ProcessContainer)
        if container.cgroup is not None:
            state = (container.cgroup.dirs["freezer"] / "freezer.state").read_text()
            return state.strip() == "FROZEN"
        status = Path(f"/proc/{container.pid}/status").read_text()  # noqa: ASYNC240
        return "\nState:\tT (stopped)" in status

    async def test_layers_are_at_opt_in_the_sandbox_only(
        self, factory: ProcessContainerFactory, started: list[Started]
    ) -> None:
        """Without the sandbox there is no /opt of the container's own: its layers stay in
        the invoker's directory for them (root's, read-only to the action), named to it."""
        s = await self.start(factory, started)
        assert isinstance(s.container, ProcessContainer)
        opt = await s.container.add_layers(LayerTree.of([tools_layer()], MIB))
        layer_dir = s.container.layer_dir
        assert opt == ("/opt" if factory.sandbox is not None else str(layer_dir))
        assert (layer_dir / "bin" / "tool").is_file()
        await s.container.destroy()
        assert not layer_dir.exists()

    async def test_runs_unprivileged_in_a_private_work_dir(
        self, factory: ProcessContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        container = s.container
        assert isinstance(container, ProcessContainer)
        mode = container.work_dir.stat().st_mode & 0o777
        assert mode == 0o700
        await s.init(
            "import os\ndef main(a):\n    return {'uid': os.getuid(), 'cwd': os.getcwd(), 'groups': os.getgroups()}\n"
        )
        result = (await s.run({})).result
        sandboxed = factory.sandbox is not None
        assert result["cwd"] == ("/action" if sandboxed else str(container.work_dir))
        if os.geteuid() == 0:
            import pwd

            if sandboxed:  # a uid of its own, nobody's on this host
                expected = container.uid
                assert expected is not None and expected >= 1_000_000
            else:
                expected = pwd.getpwnam("nobody").pw_uid
            assert result["uid"] == expected and container.work_dir.stat().st_uid == expected
            assert 0 not in result["groups"]  # root's supplementary groups dropped
        else:
            assert result["uid"] == os.geteuid()

    async def test_cgroups_hold_the_limits_and_the_weight(
        self, factory: ProcessContainerFactory, started: list[Started]
    ) -> None:
        """Each container's memory limit and CPU weight are its action's, whatever limit the
        spare sandbox it was made from had; its CPU group sits beside the invoker's own
        tasks, at one process's weight per 256 MB."""
        if factory.sandbox is None:
            pytest.skip("unsandboxed process containers have no cgroups, by design")
        require(
            factory.cgroups is not None,
            "per-container cgroups need root and cgroup v1 controllers mounted",
        )
        assert factory.cgroups is not None and PYTHON is not None
        own = Path(f"/proc/{os.getpid()}/cgroup").read_text()  # noqa: ASYNC240
        cpu_path = next(line.split(":")[2] for line in own.splitlines() if ":cpu:" in line)
        invokers_group = factory.cgroups.bases["cpu"]
        assert invokers_group.as_posix().endswith(cpu_path.rstrip("/"))
        for n, memory in enumerate((128, 512, 256)):
            s = Started(await factory.create(f"ct{os.getpid()}_{n}", PYTHON, memory))
            started.append(s)
            await s.init("def main(a):\n    return {}\n")
            assert isinstance(s.container, ProcessContainer) and s.container.cgroup is not None
            dirs = s.container.cgroup.dirs
            limit = (dirs["memory"] / "memory.limit_in_bytes").read_text()
            assert int(limit) == memory * MIB
            memsw = dirs["memory"] / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                assert int(memsw.read_text()) == memory * MIB
            assert (dirs["pids"] / "pids.max").read_text().strip() == "1024"
            assert dirs["cpu"].parent == invokers_group
            assert (dirs["cpu"] / "cpu.shares").read_text().strip() == str(1024 * memory // 256)
            # The proxy and its launcher live in every one of the container's groups.
            tasks = set(s.container.cgroup.tasks())
            assert len(tasks) >= 2
            assert set((dirs["cpu"] / "cgroup.procs").read_text().split()) == {
                str(t) for t in tasks
            }

    async def test_destroy_removes_the_work_dir(
        self, factory: ProcessContainerFactory, started: list[Started]
    ) -> None:
        s = await self.start(factory, started)
        assert isinstance(s.container, ProcessContainer)
        work_dir = s.container.work_dir
        assert work_dir.is_dir()
        await s.container.destroy()
        assert not work_dir.exists()

    async def test_close_destroys_every_container(self, root: Path) -> None:
        f = ProcessContainerFactory(f"process://{root}", Settings(), 0)
        await f.start()
        assert PYTHON is not None
        containers = [await f.create(f"c{i}", PYTHON, 256) for i in range(2)]
        await f.close()
        assert all(c.exited for c in containers)
        assert list(root.iterdir()) == []  # noqa: ASYNC240 - test assertion


async def test_leftovers_of_a_dead_invoker_are_removed(root: Path) -> None:
    """A crashed invoker's containers (owner pid gone) are killed and their dirs removed;
    pids that now belong to something else, and live invokers' dirs, are left alone."""
    dead_home = root / "invoker7.999999999.x"
    live_home = root / f"invoker7.{os.getpid()}.y"
    for home in (dead_home, live_home):
        (home / "pids").mkdir(parents=True)
    leftover = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import time; time.sleep(60)",
        f"{dead_home}/runtime/action_runtime",  # what a real container's command line names
        start_new_session=True,
    )
    (dead_home / "pids" / "wsk7_0").write_text(str(leftover.pid))
    (dead_home / "pids" / "wsk7_1").write_text(str(os.getpid()))  # pid reused by someone else
    try:
        # Until the child has exec'd, its command line is still this process's (a busy
        # machine may take a while): the factory recognizes leftovers by that line.
        cmdline = Path(f"/proc/{leftover.pid}/cmdline")
        await wait_until_async(
            cmdline.read_bytes,
            "the leftover's own command line",
            timeout=10,
            interval=0.01,
            until=lambda line: str(dead_home).encode() in line,
        )
        f = ProcessContainerFactory(f"process://{root}", Settings(), 7)
        await f.start()
        await f.close()
        assert await asyncio.wait_for(leftover.wait(), 5) == -signal.SIGKILL
        assert not dead_home.exists() and live_home.exists()
    finally:
        if leftover.returncode is None:
            leftover.kill()
            await leftover.wait()


# -- docker containers -------------------------------------------------------------------------


class TestDockerContainers(ContainerFactoryBehavior):
    # Output through the containers' own FIFOs (the default here), and through the engine's
    # attach stream (blackbox images, remote engines): the same contract.
    @pytest.fixture(params=["docker://", "docker://?output=attach"], ids=["fifo", "attach"])
    async def factory(
        self, request: pytest.FixtureRequest
    ) -> AsyncIterator[DockerContainerFactory]:
        await asyncio.to_thread(runtime_images)
        f = factory_from_url(request.param, TEST_SETTINGS, TEST_INVOKER_ID)
        assert isinstance(f, DockerContainerFactory)
        await f.start()
        yield f
        await f.close()

    async def kill_from_outside(self, container: Container) -> None:
        assert isinstance(container, DockerContainer)
        await asyncio.to_thread(docker, "kill", container.id)

    async def paused(self, container: Container) -> bool:
        assert isinstance(container, DockerContainer)
        return bool((await asyncio.to_thread(inspect, container.id))["State"]["Paused"])

    async def test_missing_interpreter_names_what_to_install(
        self, factory: ContainerFactory
    ) -> None:
        """Here the runtime is an image: one that is neither local nor pullable is named,
        with how to build ours."""
        runtime = Runtime(
            kind="cobol:85",
            family="cobol",
            language="cobol",
            default=True,
            image="pywhisk-test/no-such-cobol:85",
            commands=(),
            install="",
        )
        with pytest.raises(RuntimeUnavailable) as info:
            await factory.create("nocobol", runtime, 256)
        assert str(info.value) == (
            "The cobol:85 runtime image 'pywhisk-test/no-such-cobol:85' is not on this "
            "invoker's Docker engine and could not be pulled: build the runtime images with "
            "`pywhisk images build`."
        )

    async def test_started_as_openwhisk_starts_containers(
        self, factory: DockerContainerFactory, started: list[Started]
    ) -> None:
        """§4.1: memory limit without swap, CPU shares by memory, no capabilities, no new
        privileges, pid and file limits, the port on loopback only, labelled as ours."""
        s = await self.start(factory, started)
        assert isinstance(s.container, DockerContainer)
        info = await asyncio.to_thread(inspect, s.container.id)
        host = info["HostConfig"]
        assert host["Memory"] == host["MemorySwap"] == 256 * MIB
        assert host["CpuShares"] == 1024 * 256 // Settings().user_memory
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["PidsLimit"] == 1024
        assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 1024}]
        assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        # On the platform's own network, where containers cannot reach each other; reached
        # at its own address (this host routes to the bridge), published on loopback.
        network = json.loads(
            await asyncio.to_thread(docker, "network", "inspect", "pywhisk-actions")
        )[0]
        assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
        assert factory.direct is True
        address = info["NetworkSettings"]["Networks"]["pywhisk-actions"]["IPAddress"]
        assert (s.container.host, s.container.port) == (address, 8080)
        published = info["NetworkSettings"]["Ports"]["8080/tcp"]
        assert [p["HostIp"] for p in published] == ["127.0.0.1"]
        # A runtime secret of its own, which the invoker sends.
        assert (
            s.container.token
            and f"PYWHISK_RUNTIME_TOKEN={s.container.token}" in info["Config"]["Env"]
        )
        labels = info["Config"]["Labels"]
        assert labels["pywhisk.invoker"] == str(TEST_INVOKER_ID)
        assert labels["pywhisk.installation"] == "pywhisk-test"
        assert info["Name"].startswith("/pywhisk-test_ct")
        assert labels["pywhisk.kind"] == "python:3.11"
        assert labels["pywhisk.owner"].split("/")[1] == str(os.getpid())
        assert PYTHON is not None and info["Config"]["Image"] == PYTHON.image
        await s.init("import os\ndef main(a):\n    return {'uid': os.getuid()}\n")
        assert (await s.run({})).result["uid"] != 0  # the image's unprivileged user


async def test_docker_containers_through_the_published_port() -> None:
    """`?direct=0`: the invoker goes through the port published on 127.0.0.1, as it must
    when the containers' own addresses cannot be reached (a remote engine)."""
    await asyncio.to_thread(runtime_images)
    factory = factory_from_url("docker://?direct=0", TEST_SETTINGS, TEST_INVOKER_ID)
    assert isinstance(factory, DockerContainerFactory)
    await factory.start()
    try:
        assert PYTHON is not None
        container = await factory.create(f"ct{os.getpid()}_published", PYTHON, 256)
        assert isinstance(container, DockerContainer)
        info = await asyncio.to_thread(inspect, container.id)
        published = info["NetworkSettings"]["Ports"]["8080/tcp"][0]
        assert (container.host, str(container.port)) == ("127.0.0.1", published["HostPort"])
        s = Started(container)
        try:
            await s.init("def main(a):\n    print('via the port')\n    return {'ok': 1}\n")
            assert (await s.run({})).result == {"ok": 1}
            lines = await container.logs(MIB, wait_for_sentinels=True)
            assert [line[31:] for line in lines] == ["stdout: via the port"]
        finally:
            await s.client.close()
    finally:
        await factory.close()


class _Opaque:
    """An attach stream asyncio cannot adopt (as a TLS one): only fileno/recv/close."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._socket = raw._sock

    def fileno(self) -> int:
        return int(self._socket.fileno())

    def recv(self, n: int) -> bytes:
        return bytes(self._socket.recv(n))

    def close(self) -> None:
        release(self._raw)


async def test_docker_attach_stream_read_on_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output and death arrive the same when the stream is read on a thread."""
    original = DockerContainer.attach

    async def attach_opaque(self: DockerContainer, raw: Any) -> None:
        await original(self, _Opaque(raw))

    monkeypatch.setattr(DockerContainer, "attach", attach_opaque)
    await asyncio.to_thread(runtime_images)
    factory = factory_from_url("docker://?output=attach", TEST_SETTINGS, TEST_INVOKER_ID)
    await factory.start()
    try:
        assert PYTHON is not None
        container = await factory.create(f"ct{os.getpid()}_thread", PYTHON, 256)
        assert isinstance(container, DockerContainer) and container._transport is None
        s = Started(container)
        try:
            await s.init(
                "import sys\ndef main(a):\n    print('out')\n    print('err', file=sys.stderr)\n    return {}\n"
            )
            await s.run({})
            lines = await container.logs(MIB, wait_for_sentinels=True)
            assert sorted(line[31:] for line in lines) == ["stderr: err", "stdout: out"]
            await asyncio.to_thread(docker, "kill", container.id)
            await wait_until_async(
                lambda: container.exited,
                "the killed container seen exited",
                timeout=5,
                interval=0.01,
            )
        finally:
            await s.client.close()
    finally:
        await factory.close()
