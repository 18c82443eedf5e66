"""The sandbox's pure parts: bwrap's command line, the uid pool, bwrap's info document."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from pywhisk.invoker.containers.launch import _child_pid
from pywhisk.invoker.containers.sandbox import PROXY_DIR, WORK_DIR, Sandbox, outside_usr
from pywhisk.invoker.containers.uids import UidPool, UidsExhausted


def command(**kwargs: object) -> list[str]:
    sandbox = Sandbox("/usr/bin/bwrap", **kwargs)  # type: ignore[arg-type]
    return sandbox.command(
        1_500_003,
        1_500_003,
        Path("/r/runtime"),
        Path("/r/c1/work"),
        Path("/r/layers/c1"),
        ["python3", "-E"],
        (7, 8),
    )


def pairs(cmd: list[str], flag: str) -> list[tuple[str, str]]:
    return [(cmd[i + 1], cmd[i + 2]) for i, arg in enumerate(cmd) if arg == flag]


def test_namespaces_uid_and_parent_death() -> None:
    cmd = command()
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"):
        assert flag in cmd
    assert "--die-with-parent" in cmd and "--disable-userns" in cmd
    assert cmd[cmd.index("--uid") + 1] == cmd[cmd.index("--gid") + 1] == "1500003"
    assert "--unshare-net" not in cmd  # the host's network by default
    assert cmd[cmd.index("--") + 1 :] == ["python3", "-E"]
    assert cmd[cmd.index("--info-fd") + 1] == "7" and cmd[cmd.index("--block-fd") + 1] == "8"


def test_network_off_unshares_it() -> None:
    assert "--unshare-net" in command(network=False)


def test_file_system_view() -> None:
    cmd = command()
    assert ("/r/runtime", PROXY_DIR) in pairs(cmd, "--ro-bind")
    assert not PROXY_DIR.startswith("/opt/")  # /opt is the layers' alone, as on Lambda
    assert ("/r/layers/c1", "/opt") in pairs(cmd, "--ro-bind")  # read-only to the action
    assert pairs(cmd, "--bind") == [("/r/c1/work", WORK_DIR)]  # the one writable host dir
    assert cmd[cmd.index("--chdir") + 1] == WORK_DIR
    assert cmd[cmd.index("--tmpfs") + 1] == "/tmp"
    mounted = {dest for _, dest in pairs(cmd, "--ro-bind") + pairs(cmd, "--ro-bind-try")}
    assert "/etc/resolv.conf" in mounted and "/etc/ssl" in mounted
    for secret in ("/etc", "/etc/shadow", "/etc/passwd", "/root", "/home", "/var", "/tmp"):
        assert secret not in mounted


def test_interpreters_outside_usr_are_mounted(tmp_path: Path) -> None:
    node = tmp_path / "opt" / "node" / "bin" / "node"
    node.parent.mkdir(parents=True)
    node.touch()
    assert outside_usr(["/usr/bin/python3", str(node)]) == (str(tmp_path / "opt" / "node"),)
    mounts = pairs(command(extra=("/opt/x", "/srv/y")), "--ro-bind")
    # One under /opt goes over the layers (after them), at a mount point made for it.
    assert mounts.index(("/opt/x", "/opt/x")) > mounts.index(("/r/layers/c1", "/opt"))
    assert Sandbox("bwrap", extra=("/opt/x", "/srv/y")).opt_mount_points() == ["x"]


def test_uid_pool_hands_out_distinct_ids_and_takes_them_back() -> None:
    pool = UidPool(2, base=1_600_000, size=3)
    ids = [pool.take() for _ in range(3)]
    assert ids == [1_600_006, 1_600_007, 1_600_008]  # invoker 2: its own slice
    with pytest.raises(UidsExhausted):
        pool.take()
    pool.give_back(ids[1])
    assert pool.take() == ids[1]
    assert 1_600_008 in pool and 1_600_009 not in pool and 1_600_005 not in pool


def test_uid_pool_skips_this_hosts_users() -> None:
    root_uid = pwd.getpwnam("root").pw_uid
    pool = UidPool(0, base=root_uid, size=2)
    assert root_uid not in [pool.take() for _ in range(len(pool._free))]


def test_child_pid_from_bwraps_info() -> None:
    read, write = os.pipe()
    os.write(write, b'{\n    "child-pid": 4242')
    os.write(write, b',\n    "pid-namespace": 4026532180\n}\n')
    os.close(write)
    try:
        assert _child_pid(read) == 4242
    finally:
        os.close(read)
    read, write = os.pipe()
    os.close(write)  # bwrap failed before writing anything
    try:
        assert _child_pid(read) is None
    finally:
        os.close(read)
