"""The bubblewrap command line that puts a process container in its own sandbox.

Each container runs as

    bwrap --unshare-user --uid U --gid U --disable-userns --unshare-pid --unshare-ipc
          --unshare-uts --unshare-cgroup-try [--unshare-net] --die-with-parent --new-session
          <read-only /usr, /etc's few needed files, the proxy, its layers at /opt>
          <its own /action, /tmp, /proc>
          -- python3 -E -s /var/runtime/pywhisk/action_runtime --listen-fd N …

started as that uid (bwrap then needs no privilege: an unprivileged user namespace maps U to
U), so outside the sandbox every process of the container has a uid of its own, from the
factory's pool: no two containers can signal or ptrace each other, read each other's
/proc/PID/mem or work dirs. Inside, the container sees its own processes only, a root file
system of read-only system directories (the interpreters, shared libraries, certificates
and DNS configuration), the proxy at /var/runtime/pywhisk/action_runtime (read-only), its
work dir at /action (its HOME, as in the runtime images), a private /tmp, and at /opt its
action's Lambda layers: a directory of the invoker's, empty at start and filled before /init
(layer_tree.py), mounted read-only, so the action can run what its layers hold and change
none of it, as on Lambda. Never the platform's data directory, configuration, another
container's files or the host's /tmp or /opt. An interpreter the host keeps under /opt
(`extra`, e.g. /opt/node) is mounted over the layers at its own path, which the factory
makes in the layer directory first (`opt_mount_points`).

Networking: the runtime listens on a Unix socket the invoker bound in the container's own
directory (0700, root's) and passes as fd N, so nothing listens on TCP for it and no
other container can reach it, while the action keeps the host's network for its outbound
calls and for `__OW_API_HOST` (`--unshare-net` when actions get no network at all). A
network namespace with user-mode networking (pasta, slirp4netns) would also hide the host's
loopback services, at the price of a helper process per container and a user-space copy of
every packet; neither is installed by default where the standalone preset runs.

`--die-with-parent`: the kernel SIGKILLs the sandbox when the invoker thread that started it
dies (PR_SET_PDEATHSIG), and the whole PID namespace dies with its init, so no container
outlives a SIGKILLed invoker. bwrap sets it only once its namespaces are made: the moments
before are covered by the launch (launch.py) and the reaper (reaper.py). Measured here: a
sandboxed start costs ~4 ms over a bare one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROXY_DIR = "/var/runtime/pywhisk/action_runtime"  # beside Lambda's own runtime, not in /opt
WORK_DIR = "/action"
LAYER_DIR = "/opt"
# What of /etc an action needs: the dynamic linker's cache, name resolution, TLS roots, time
# zone, Debian's command alternatives, PHP's extensions. Not passwd, shadow, ssh keys or
# anything else. Each is a mount to set up and tear down: 19 of them cost ~10 ms more than
# none per container on a loaded machine, so the list is short.
ETC = (
    "alternatives",
    "hosts",
    "ld.so.cache",
    "localtime",
    "nsswitch.conf",
    "php",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
)
# Merged-/usr systems have these as symlinks into /usr; older ones as directories.
TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
INSTALL_HINT = "apt-get install bubblewrap"


class SandboxUnavailable(Exception):
    """No sandbox can be made here; the message says why and what to do."""


@dataclass(frozen=True)
class Sandbox:
    bwrap: str
    network: bool = True
    disable_userns: bool = True  # bubblewrap >= 0.8: actions cannot nest user namespaces
    # Host directories outside /usr holding an interpreter (e.g. /opt/node), mounted read-only.
    extra: tuple[str, ...] = field(default=())

    def command(
        self,
        uid: int,
        gid: int,
        proxy_dir: Path,
        work_dir: Path,
        layer_dir: Path,
        argv: Iterable[str],
        sync_fds: tuple[int, int] | None = None,
    ) -> list[str]:
        """bwrap's argv for a container; `sync_fds` = (info fd, block fd) for the start."""
        cmd = [self.bwrap, "--unshare-user", "--uid", str(uid), "--gid", str(gid)]
        if self.disable_userns:
            cmd.append("--disable-userns")
        cmd += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if not self.network:
            cmd.append("--unshare-net")
        # The container's name (its directory's, beside the work dir) as its hostname, as a
        # Docker container has a hostname of its own.
        cmd += ["--die-with-parent", "--new-session", "--hostname", work_dir.parent.name]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for name in TOP_LEVEL:
            host = Path("/") / name
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), str(host)]
        for name in ETC:
            cmd += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        cmd += ["--ro-bind", str(layer_dir), LAYER_DIR]
        for directory in self.extra:  # after /opt: one there mounts over the layers
            cmd += ["--ro-bind", directory, directory]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        cmd += ["--ro-bind", str(proxy_dir), PROXY_DIR]
        cmd += ["--bind", str(work_dir), WORK_DIR, "--chdir", WORK_DIR]
        if sync_fds is not None:
            cmd += ["--info-fd", str(sync_fds[0]), "--block-fd", str(sync_fds[1])]
        cmd += ["--", *argv]
        return cmd

    def opt_mount_points(self) -> list[str]:
        """The `extra` directories under /opt, relative to it: they need a mount point in
        the layer directory, which is read-only once mounted."""
        return [d[len(LAYER_DIR) + 1 :] for d in self.extra if d.startswith(LAYER_DIR + "/")]


def outside_usr(executables: Iterable[str]) -> tuple[str, ...]:
    """The prefixes (…/bin/x → …) of executables that live outside /usr and /bin."""
    found: list[str] = []
    for executable in executables:
        real = Path(os.path.realpath(executable))
        if real.is_relative_to("/usr") or any(real.is_relative_to(f"/{t}") for t in TOP_LEVEL):
            continue
        prefix = str(real.parent.parent)
        if prefix != "/" and prefix not in found:
            found.append(prefix)
    return tuple(found)


def probe(sandbox: Sandbox, uid: int, gid: int, python: str, scratch: Path) -> Sandbox:
    """Start one throw-away sandbox running `python -c pass` in `scratch` (a directory the
    uid can reach, removed after), as a container would be started.

    Returns the sandbox that worked (without --disable-userns on an older bubblewrap), or
    raises SandboxUnavailable with bwrap's own complaint.
    """
    ids: dict[str, Any] = (
        {"user": uid, "group": gid, "extra_groups": []} if os.geteuid() == 0 else {}
    )
    work = scratch / "work"
    work.mkdir(parents=True, exist_ok=True)
    opt = scratch / "opt"
    for point in ("", *sandbox.opt_mount_points()):
        (opt / point).mkdir(parents=True, exist_ok=True)
    if ids:
        os.chown(scratch, uid, gid)
        os.chown(work, uid, gid)
    problem = ""
    try:
        for candidate in (sandbox, Sandbox(sandbox.bwrap, sandbox.network, False, sandbox.extra)):
            try:
                done = subprocess.run(
                    candidate.command(
                        uid, gid, scratch, work, opt, [python, "-E", "-s", "-c", "pass"]
                    ),
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=30,
                    check=False,
                    **ids,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SandboxUnavailable(f"bubblewrap could not run: {exc}") from exc
            if done.returncode == 0:
                return candidate
            problem = problem or done.stderr.decode(errors="replace").strip()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    raise SandboxUnavailable(f"bubblewrap cannot make a sandbox here: {problem}")


def detect(search_path: str, python: str, network: bool, uid: int, scratch: Path) -> Sandbox:
    """The sandbox containers get here, tried once (as `uid`); SandboxUnavailable says why
    there is none and what to install."""
    bwrap = shutil.which("bwrap", path=search_path)
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap is not installed ({INSTALL_HINT})")
    interpreters = [p for c in ("node", "php") if (p := shutil.which(c, path=search_path))]
    candidate = Sandbox(bwrap, network, extra=outside_usr([python, *interpreters]))
    return probe(candidate, uid, uid, python, scratch)
