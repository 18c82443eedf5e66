"""No sandbox outlives its server, even one SIGKILLed while sandboxes are being launched, and
none is started ahead when prewarming is off (real standalone servers, bwrap, cgroups).

A sandbox's launch is a fork, bwrap's exec, its clone of the sandbox's first process, and
the release of that process: parent-death signals cover each step only once they are set
(launch.py), and the reaper covers the rest (reaper.py). The servers here launch many
spares at once at start, and are killed at several points of that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.invoker.containers.cgroups import CgroupError, CgroupTree
from pywhisk.invoker.containers.launch import ORPHANED, dies_with
from pywhisk.invoker.containers.uids import DEFAULT_BASE, DEFAULT_SIZE
from tests.support.polling import wait_until
from tests.support.prerequisites import program, require
from tests.support.server import StandaloneServer

require(os.geteuid() == 0, "sandboxes with a uid and cgroups of their own: root only")

# An invoker id no other test uses: its containers' uids and cgroups are this test's alone.
INVOKER = 23
UIDS = range(DEFAULT_BASE + INVOKER * DEFAULT_SIZE, DEFAULT_BASE + (INVOKER + 1) * DEFAULT_SIZE)
# Many launches at once at start: plain spares, a booted one per language, stem cells.
MANY = "?spares=16&booted=3"
PR_GET_PDEATHSIG = 2


@pytest.fixture
def base() -> Iterator[Path]:
    program("bwrap", "bubblewrap")
    path = Path(tempfile.mkdtemp(prefix="pywhisk-launch-"))
    path.chmod(0o755)  # traversable by the containers' uids
    yield path
    shutil.rmtree(path, ignore_errors=True)
    try:
        CgroupTree(INVOKER).remove_leftovers()  # empty groups of the killed servers
    except CgroupError:
        pass


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _real_uid(pid: int) -> int | None:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(b"State:") and b"Z" in line.split()[1]:
            return None  # a zombie holds nothing: its parent has yet to reap it
        if line.startswith(b"Uid:"):
            return int(line.split()[1])
    return None


def _frozen(pid: int) -> bool:
    """Is `pid` in a frozen cgroup (v1 freezer, where the sandboxes' groups are)?"""
    for line in _read(f"/proc/{pid}/cgroup").splitlines():
        _, controllers, path = line.split(b":", 2)
        if b"freezer" in controllers.split(b","):
            state = _read(f"/sys/fs/cgroup/freezer{path.decode()}/freezer.state")
            return state.strip() == b"FROZEN"
    return False


def leftovers(root: Path, server_pid: int) -> dict[int, str]:
    """Every live process of the server's containers: naming the containers' root, running
    as one of the invoker's uids, or in one of its cgroups; with its command line."""
    marker = str(root).encode()
    branch = f"pywhisk-invoker{INVOKER}.{server_pid}.".encode()
    found = {}
    for pid in _pids():
        uid = _real_uid(pid)
        if uid is None:
            continue
        cmdline = _read(f"/proc/{pid}/cmdline")
        if marker in cmdline or uid in UIDS or branch in _read(f"/proc/{pid}/cgroup"):
            found[pid] = cmdline.replace(b"\0", b" ")[:200].decode(errors="replace")
    return found


def bwraps(root: Path) -> int:
    marker = str(root).encode()
    return sum(
        1
        for pid in _pids()
        if (cmd := _read(f"/proc/{pid}/cmdline")).startswith(b"/usr/bin/bwrap") and marker in cmd
    )


def server(
    base: Path, name: str, options: str = "", env: dict[str, str] | None = None
) -> tuple[StandaloneServer, Path]:
    root = base / name / "containers"
    s = StandaloneServer(
        base / name / "data",
        env={
            "PYWHISK_INVOKER_ID": str(INVOKER),
            "PYWHISK_CONTAINERS_URL": f"process://{root}{options}",
            **(env or {}),
        },
    )
    return s, root


@pytest.mark.parametrize("launched", [1, 6, 14, 24])
def test_no_sandbox_outlives_a_server_killed_while_launching(base: Path, launched: int) -> None:
    """The server is SIGKILLed once `launched` bwraps of its start's burst have been seen:
    some sandboxes are made, others half-way (forked, bwrap cloning, held), and nothing of
    any of them may be left."""
    s, root = server(base, "killed", MANY)
    s.start(wait=False)
    assert s.process is not None
    pid = s.process.pid
    try:
        wait_until(
            lambda: bwraps(root),
            f"{launched} sandboxes being launched",
            timeout=60,
            interval=0.002,
            until=lambda n: n >= launched or s.process is None or s.process.poll() is not None,
            details=s.log,
        )
        kill_and_see_all_gone(s, root, pid)
    finally:
        for left in leftovers(root, pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left, signal.SIGKILL)


def kill_and_see_all_gone(s: StandaloneServer, root: Path, pid: int) -> None:
    """SIGKILL the server, then wait for every process of its containers to be gone."""
    assert s.process is not None
    s.process.send_signal(signal.SIGKILL)
    s.process.wait()
    wait_until(
        lambda: leftovers(root, pid),
        "every process of the killed server's containers gone",
        timeout=10,
        interval=0.05,
        until=lambda left: not left,
        details=s.log,
    )


def hello(s: StandaloneServer) -> object:
    """Create an action in a namespace of its own and invoke it once, blocking."""
    identity = s.create_namespace("hello")
    user, key = identity.auth.split(":", 1)
    api = f"{s.url}/api/v1/namespaces/_/actions/hello"
    code = "def main(a):\n    return {'hello': a.get('name')}\n"
    put = httpx.put(api, json={"exec": {"kind": "python:3.11", "code": code}}, auth=(user, key))
    assert put.status_code == 200, put.text
    done = httpx.post(
        f"{api}?blocking=true&result=true", json={"name": "x"}, auth=(user, key), timeout=60
    )
    return done.json()


def test_a_paused_container_of_a_killed_server_is_gone(base: Path) -> None:
    """Idle past the pause grace, a container is frozen: a frozen process dies of a SIGKILL
    only once thawed, so the parent-death signal alone left it there for good."""
    s, root = server(base, "paused", env={"PYWHISK_PAUSE_GRACE": "0.2"})
    s.start()
    assert s.process is not None
    pid = s.process.pid
    try:
        assert hello(s) == {"hello": "x"}
        frozen = wait_until(
            lambda: [p for p in leftovers(root, pid) if _frozen(p)],
            "the container paused",
            timeout=10,
            interval=0.05,
        )
        assert frozen
        kill_and_see_all_gone(s, root, pid)
    finally:
        for left in leftovers(root, pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left, signal.SIGKILL)
        s.stop()


def test_prewarming_off_leaves_no_spare_processes(base: Path) -> None:
    """PYWHISK_PREWARM=false: no stem cell, no spare sandbox, no runtime booted ahead; the
    first invoke makes its sandbox, and runs."""
    s, root = server(base, "cold", env={"PYWHISK_PREWARM": "false"})
    s.start()
    try:
        assert s.process is not None
        time.sleep(0.5)  # what would be made ahead has had its time
        running = leftovers(root, s.process.pid)
        # The reaper alone, waiting for the server to end.
        assert [cmd for cmd in running.values() if "reaper" not in cmd] == [], running
        assert hello(s) == {"hello": "x"}
    finally:
        s.stop()


def test_a_launched_child_dies_with_the_thread_that_forked_it() -> None:
    """The guard sets the parent-death signal after the change of uid (which would clear it)
    and before the exec: the child reports SIGKILL as its own."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python is not None
    code = (
        "import ctypes\n"
        "v = ctypes.c_int()\n"
        f"ctypes.CDLL(None).prctl({PR_GET_PDEATHSIG}, ctypes.byref(v), 0, 0, 0)\n"
        "print(v.value)\n"
    )
    done = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        user=65534,
        group=65534,
        extra_groups=[],
        cwd="/",
        preexec_fn=dies_with(os.getpid()),
        check=True,
    )
    assert int(done.stdout) == signal.SIGKILL


def test_a_child_whose_launcher_is_gone_never_runs(tmp_path: Path) -> None:
    """Forked, but its parent is not the launcher any more (reparented: the launcher died
    before the signal could be set): it exits before its exec."""
    ran = tmp_path / "ran"
    done = subprocess.run(
        ["/bin/sh", "-c", f"touch {ran}"],
        preexec_fn=dies_with(os.getpid() + 1_000_000),  # not our pid: as after a reparenting
        check=False,
    )
    assert done.returncode == ORPHANED
    assert not ran.exists()
