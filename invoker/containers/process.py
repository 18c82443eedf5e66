"""Process containers (`process://`): one local `action_runtime` process tree per container.

The standalone preset's containers. Each one is

    python3 -E -s <runtime copy>/action_runtime --language L --listen-fd N --interpreter I

with a minimal environment (PATH, HOME, LANG, `__OW_API_HOST`; none of the platform's
settings or secrets), in a bubblewrap sandbox (sandbox.py: its own PID, mount, IPC and UTS
namespaces, a uid of its own from uids.py, a private view of the file system) inside
cgroups of its own (cgroups.py: the action's memory, 1024 pids, CPU shares by memory). The
factory binds a Unix socket in the container's directory and hands it down as fd N: the
first request simply waits in the backlog (no readiness polling), nothing listens on TCP,
and only root can connect (the socket is 0600 root's, the directory the container uid's).

Where no sandbox can be had (bwrap missing, or neither root nor user namespaces), the
factory says so once at start and runs the proxy directly, as `nobody` when root: the
processes then share the host's namespaces and file system and have no memory limit.
`?sandbox=on` refuses to start without a sandbox, `?sandbox=off` never uses one.
`?network=off` (or PYWHISK_ACTION_NETWORK=off) gives sandboxed actions no network at all;
`?cpu=off` keeps them out of CPU groups (no shares by memory; see cgroups.py). Sandboxes are
made ahead, `?spares=N` of them (2; process_spares.py says why), and taken by creates; for
each of Python, Node.js and PHP, `?booted=N` more (1) with that language's runtime already
running in them, waiting for an action (process_boot.py), so a new action's first /init
pays no interpreter start. Both are processes started ahead: `PYWHISK_PREWARM=false` turns
them off with the stem cells, unless the URL gives their numbers.

Layout under the root (`process:///some/dir`, default `<tmp>/pywhisk-containers`):

    invoker<N>.<pid>/runtime/action_runtime/   the copy the processes run (read-only to them)
    invoker<N>.<pid>/pids/<dir>                bwrap's (or the proxy's) pid, per live container
    invoker<N>.<pid>/layers/<dir>/             its action's layers (the invoker's, read-only to
                                               the container): /opt in the sandbox
    invoker<N>.<pid>/<dir>/                    a container's directory (its uid's, 0700),
                                               named for it or, sandboxed, for its spare:
                         sock                  the runtime's socket (root's, 0600)
                         work/                 its work dir, /action in the sandbox

Layers live outside the container's own directory because the invoker writes them: as root,
into a directory whose parent a container's uid owns, a rename there between two of its
writes could send the next one elsewhere. Without the sandbox there is no private /opt: the
action finds its layers at `layers/<name>` (PATH, LD_LIBRARY_PATH and a `provided` action's
bootstrap lookup say where), so a layer that names `/opt/…` literally needs the sandbox or
Docker containers.

Leftovers of a crashed invoker are removed at start (process_home.py), though none
survive it: parent-death signals take each sandbox down with the invoker from before bwrap
runs (launch.py), and the factory's reaper (reaper.py), a small process that outlives the
invoker, kills what they cannot reach: a sandbox caught half-made, and the unsandboxed
fallback's runtimes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pywhisk.common.config import Settings
from pywhisk.common.runtimes import BLACKBOX, Runtime, default_manifest
from pywhisk.invoker.containers.base import (
    MIB,
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
)
from pywhisk.invoker.containers.cgroups import DEFAULT_MEMORY_MB, CgroupError, CgroupTree
from pywhisk.invoker.containers.launch import launch_plain, start_sandbox
from pywhisk.invoker.containers.process_boot import (
    BOOTABLE,
    DEFAULT_BOOTED,
    booted_argv,
    wait_booted,
)
from pywhisk.invoker.containers.process_container import ProcessContainer
from pywhisk.invoker.containers.process_home import group_id, prepare_home
from pywhisk.invoker.containers.process_spares import DEFAULT_SPARES, Spare, SparePool
from pywhisk.invoker.containers.reaper import Reaper
from pywhisk.invoker.containers.sandbox import (
    LAYER_DIR,
    PROXY_DIR,
    WORK_DIR,
    Sandbox,
    SandboxUnavailable,
    detect,
)
from pywhisk.invoker.containers.uids import UidPool, UidsExhausted
from pywhisk.invoker.pool_policy import PoolPolicy, policy_from_options

log = logging.getLogger("pywhisk.invoker")

MIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"
_SOCKET_PATH_MAX = 107  # sun_path's 108 bytes with the terminating NUL
BLACKBOX_NEEDS_DOCKER = (
    "Blackbox actions run their own container image, which needs Docker containers: start "
    "the invoker with PYWHISK_CONTAINERS_URL=docker:// (pywhisk standalone --containers docker)."
)
UNSANDBOXED = (
    "process containers run WITHOUT a sandbox: {reason}. Actions then share this host's "
    "processes, files and network with each other and the platform."
)


class ProcessContainerFactory(ContainerFactory):
    scheme = "process"

    def __init__(self, url: str, settings: Settings, invoker_id: int) -> None:
        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.root = Path(parts.path) if parts.path not in ("", "/") else _default_root()
        self.search_path = options.get("path", MIN_PATH)
        self.python = options.get("python") or shutil.which("python3", path=self.search_path)
        self.sandbox_mode = options.get("sandbox", "auto")
        if self.sandbox_mode not in ("auto", "on", "off"):
            raise ContainerError(
                f"process://?sandbox= takes auto, on or off, not {self.sandbox_mode!r}"
            )
        network = options.get("network")
        self.network = (
            settings.action_network if network is None else network not in ("off", "0", "false")
        )
        # CPU shares by memory, as Docker mode's; off: the invoker's own CPU group.
        self.cpu_shares = options.get("cpu", "on") not in ("off", "0", "false")
        # Spares are processes started ahead, as stem cells are: an operator who turns
        # prewarming off (PYWHISK_PREWARM=false) gets none, unless the URL counts them.
        spares, booted = (DEFAULT_SPARES, DEFAULT_BOOTED) if settings.prewarm else (0, 0)
        try:
            self.spare_count = int(options.get("spares", spares))
        except ValueError:
            raise ContainerError("process://?spares= takes a number of sandboxes") from None
        try:
            self.booted_count = int(options.get("booted", booted))
        except ValueError:
            raise ContainerError("process://?booted= takes a number of sandboxes") from None
        try:  # budget by use: a container's memory limit is its cgroup's cap
            self._pool_policy = policy_from_options(options, measured=True)
        except ValueError as exc:
            raise ContainerError(f"process://?{exc}") from None
        self.invoker_id = invoker_id
        self.api_host = settings.effective_api_host
        # Room for the largest log limit plus slack: beyond it lines are dropped, and the
        # activation's logs are reported truncated anyway.
        self.log_cap = settings.max_action_logs * MIB + 64 * 1024
        self.unzip_max = settings.zip_unpacked_max
        self.home: Path | None = None  # this factory's directory under root
        self.sandbox: Sandbox | None = None
        self.cgroups: CgroupTree | None = None
        self._root = os.geteuid() == 0
        self._nobody: tuple[int, int] | None = None  # unsandboxed as root: run as nobody
        self._uids = UidPool(invoker_id)
        self._interpreters: dict[str, str] = {}
        self._containers: set[ProcessContainer] = set()
        # Long-lived threads: a sandbox dies with the thread that started it (launch.py).
        self._spawner: ThreadPoolExecutor | None = None
        self._spares: SparePool | None = None
        # Booted spares by (language, interpreter): their runtime already runs.
        self._booted: dict[tuple[str, str], SparePool] = {}
        # The most a booted spare of each was seen to use, in MB: what the next one asks
        # the pool's budget for (0 before any was measured).
        self._booted_size: dict[tuple[str, str], int] = {}
        self._reaper: Reaper | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def pool_policy(self) -> PoolPolicy:
        return self._pool_policy

    async def start(self) -> None:
        if self.python is None:
            raise ContainerError(f"no python3 on {self.search_path} to run action containers")
        self.home = await asyncio.to_thread(
            prepare_home, self.root, self.invoker_id, self.python, self._root
        )
        self._reaper = await asyncio.to_thread(Reaper, self.python, self.home)
        try:
            await self._start()
        except BaseException:
            await asyncio.to_thread(self._reaper.close)
            self._reaper = None
            raise

    async def _start(self) -> None:
        assert self.home is not None and self._reaper is not None
        self._spawner = ThreadPoolExecutor(4, thread_name_prefix="process-containers")
        if self.sandbox_mode != "off":
            try:
                await asyncio.to_thread(self._make_sandbox)
            except SandboxUnavailable as exc:
                if self.sandbox_mode == "on":
                    raise ContainerError(str(exc)) from None
                if not self.network:  # asked for no network: never run actions with one
                    raise ContainerError(
                        f"actions without network need the sandbox: {exc}"
                    ) from None
                log.warning(UNSANDBOXED.format(reason=exc))
        elif not self.network:
            raise ContainerError("actions without network need the sandbox (not ?sandbox=off)")
        if self.sandbox is None and self._root:
            try:
                user = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError as exc:
                raise ContainerError(f"running as root needs a '{UNPRIVILEGED_USER}' user") from exc
            self._nobody = (user.pw_uid, group_id(UNPRIVILEGED_GROUP, user.pw_gid))
        if self.cgroups is not None:
            bases, branch = self.cgroups.bases, self.cgroups.name
            self._reaper.watch(bases["pids"] / branch, bases["freezer"] / branch)
        if self.sandbox is not None:
            # Named as the invoker's containers are (`wsk<id>_…`): the name is the sandbox's
            # hostname, which an action may read to tell which invoker runs it.
            self._spares = SparePool(
                self.spare_count,
                self._build_spare,
                self._spawner,
                self._spare_gone,
                log,
                prefix=f"wsk{self.invoker_id}_",
            )
            self._spares.fill()
            for runtime in default_manifest().runtimes:
                if runtime.default and runtime.language in BOOTABLE:
                    try:
                        self._booted_pool(runtime.language, self.interpreter(runtime))
                    except RuntimeUnavailable:
                        pass  # not installed here: its creates fail anyway
            await self.spares_made()

    def _booted_pool(self, language: str, interpreter: str) -> SparePool | None:
        """The booted spares of `language` run by `interpreter`, made (and filling) on first
        use; None when they are off or the language cannot be booted."""
        if self._spares is None or self.booted_count <= 0 or language not in BOOTABLE:
            return None
        key = (language, interpreter)
        pool = self._booted.get(key)
        if pool is None:
            assert self._spawner is not None

            def build(name: str) -> Spare:
                return self._build_spare(name, key)

            def room() -> bool:
                return self.budget is None or self.budget(self._booted_size.get(key, 0))

            pool = SparePool(
                self.booted_count,
                build,
                self._spawner,
                self._spare_gone,
                log,
                prefix=f"wsk{self.invoker_id}_{language}{len(self._booted)}_",
                room=room,
            )
            self._booted[key] = pool
            pool.fill()
        return pool

    def _make_sandbox(self) -> None:
        assert self.home is not None and self.python is not None
        uid = self._uids.take()
        try:
            self.sandbox = detect(
                self.search_path, self.python, self.network, uid, self.home / "probe"
            )
        finally:
            self._uids.give_back(uid)
        if not self._root:
            log.warning(
                "process containers are sandboxed but without memory, pids or CPU limits and "
                "all under one uid: cgroups and per-container users need the invoker to run as root"
            )
            return
        tree = CgroupTree(self.invoker_id, self.cpu_shares)
        try:
            killed = tree.remove_leftovers()
            tree.prepare()
        except CgroupError as exc:
            log.warning("process containers run without memory, pids or CPU limits: %s", exc)
            return
        if killed:
            log.warning("killed %d processes a crashed invoker's containers left", len(killed))
        self.cgroups = tree

    async def close(self) -> None:
        pools, self._booted = list(self._booted.values()), {}
        await asyncio.gather(*(pool.close() for pool in pools))
        if self._spares is not None:
            await self._spares.close()
            self._spares = None
        await asyncio.gather(*(c.destroy() for c in list(self._containers)))
        self._containers.clear()
        if self._spawner is not None:
            self._spawner.shutdown(wait=False)
            self._spawner = None
        if self._reaper is not None:
            await asyncio.to_thread(self._reaper.close)
            self._reaper = None
        if self.cgroups is not None:
            await asyncio.to_thread(self.cgroups.close)
        if self.home is not None:
            await asyncio.to_thread(shutil.rmtree, self.home, True)
            self.home = None

    @property
    def spares(self) -> tuple[Spare, ...]:
        """The spare sandboxes ready now with nothing running in them (none without the
        sandbox)."""
        return self._spares.ready if self._spares is not None else ()

    @property
    def booted(self) -> tuple[Spare, ...]:
        """The spare sandboxes ready now with a language's runtime booted in them."""
        return tuple(spare for pool in self._booted.values() for spare in pool.ready)

    def held_memory(self) -> int:
        """MB the booted spares use now (their runtimes run, ~30–60 MB a language); plain
        spares hold a blocked bwrap each, ~160 kB of their own, and are not counted."""
        total = 0
        for key, pool in self._booted.items():
            for spare in pool.ready:
                used = spare.memory_used() or 0
                total += used
                if used > self._booted_size.get(key, 0):
                    self._booted_size[key] = used
        return total

    def shed(self) -> None:
        """Discard the booted spares: the pool needs their memory. Each language's is made
        again after its next adoption (a create of that language takes a plain spare
        meanwhile), when the pool counts it again."""
        for pool in self._booted.values():
            pool.shed()

    async def spares_made(self) -> None:
        """Until the spares being made, booted ones too, are ready (after a create took one)."""
        pools = [*([self._spares] if self._spares is not None else []), *self._booted.values()]
        await asyncio.gather(*(pool.wait() for pool in pools))

    # -- containers ------------------------------------------------------------------------

    def interpreter(self, runtime: Runtime) -> str:
        """The runtime's interpreter, or RuntimeUnavailable naming what to install."""
        if runtime.kind == BLACKBOX:
            raise RuntimeUnavailable(BLACKBOX_NEEDS_DOCKER)
        found = self._interpreters.get(runtime.kind)
        if found is None:
            for command in runtime.commands:
                found = shutil.which(command, path=self.search_path)
                if found:
                    break
            if not found:
                command = runtime.commands[-1] if runtime.commands else runtime.language
                raise RuntimeUnavailable(
                    f"The {runtime.kind} runtime needs the '{command}' command, which is not "
                    f"installed on this invoker ({runtime.install})."
                )
            self._interpreters[runtime.kind] = found
        return found

    async def create(self, name: str, runtime: Runtime, memory_mb: int) -> Container:
        if self.home is None or self._spawner is None:
            raise ContainerError("the process container factory is not started")
        interpreter = self.interpreter(runtime)
        try:
            if self._spares is not None:
                container = await self._create_sandboxed(name, runtime, interpreter, memory_mb)
            else:
                container = await asyncio.get_running_loop().run_in_executor(
                    self._spawner, self._start_plain, name, runtime, interpreter
                )
        except (OSError, CgroupError, UidsExhausted) as exc:
            raise ContainerError(f"cannot start container {name}: {exc}") from exc
        container.on_gone = self._gone
        self._containers.add(container)
        try:
            await container.attach(self.log_cap)
        except OSError as exc:
            await container.destroy()
            raise ContainerError(f"cannot watch container {name}: {exc}") from exc
        return container

    async def _create_sandboxed(
        self, name: str, runtime: Runtime, interpreter: str, memory_mb: int
    ) -> ProcessContainer:
        """A spare adopted: one with this language booted if ready, else one with nothing
        running yet, else one built for this create right now."""
        assert self._spares is not None and self._spawner is not None
        booted = self._booted_pool(runtime.language, interpreter)
        spare = booted.take() if booted is not None else None
        if spare is not None:
            try:
                proc = spare.adopt(["--kind", runtime.kind], memory_mb)
            except (OSError, CgroupError) as exc:
                # Its cgroup could not shrink below what the runtime uses, or it died:
                # an unbooted spare does for this create.
                log.warning("cannot adopt booted spare %s: %s", spare.name, exc)
                await asyncio.to_thread(spare.discard)
                self._spare_gone(spare)
            else:
                return self._adopted(name, spare, proc)
        options = [
            *("--language", runtime.language, "--interpreter", interpreter),
            *("--kind", runtime.kind, "--unzip-max", str(self.unzip_max)),
        ]
        spare = self._spares.take()
        if spare is None:
            spare = await asyncio.get_running_loop().run_in_executor(
                self._spawner, self._build_spare, self._spares.name()
            )
        try:
            # A few cgroupfs and pipe writes: kernel calls, no disk, fine on the loop.
            proc = spare.adopt(options, memory_mb)
        except (OSError, CgroupError):
            await asyncio.to_thread(spare.discard)
            self._spare_gone(spare)
            raise
        return self._adopted(name, spare, proc)

    @staticmethod
    def _adopted(name: str, spare: Spare, proc: subprocess.Popen[bytes]) -> ProcessContainer:
        return ProcessContainer(
            name,
            spare.socket_path,
            proc,
            spare.directory,
            spare.pid_file,
            (spare.layers, LAYER_DIR),
            spare.cgroup,
            spare.uid,
        )

    def _gone(self, container: ProcessContainer) -> None:
        self._containers.discard(container)
        if container.uid is not None:
            self._uids.give_back(container.uid)

    def _spare_gone(self, spare: Spare) -> None:
        if spare.uid is not None:
            self._uids.give_back(spare.uid)

    def _directory(
        self, name: str, owner: tuple[int, int] | None
    ) -> tuple[Path, Path, socket.socket]:
        """A container's directory and work dir (`owner`'s, 0700), its layers' directory
        (the invoker's) and its bound socket."""
        assert self.home is not None
        directory = self.home / name
        path = directory / "sock"
        if len(str(path)) > _SOCKET_PATH_MAX:
            raise OSError(f"socket path too long for a Unix socket: {path} (use a shorter root)")
        directory.mkdir(mode=0o700)
        layers = self.home / "layers" / name
        try:
            work = directory / "work"
            work.mkdir(mode=0o700)
            if owner is not None:
                os.chown(directory, *owner)
                os.chown(work, *owner)
            layers.mkdir(mode=0o755)
            if self.sandbox is not None:
                for point in self.sandbox.opt_mount_points():
                    (layers / point).mkdir(parents=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(str(path))
                os.chmod(path, 0o600)  # connecting needs write permission: root's alone
                sock.listen(64)
            except BaseException:
                sock.close()
                raise
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            shutil.rmtree(layers, ignore_errors=True)
            raise
        return directory, layers, sock

    def _env(self, home: str) -> dict[str, str]:
        return {
            "PATH": self.search_path,
            "HOME": home,
            "LANG": "C.UTF-8",
            "__OW_API_HOST": self.api_host,
        }

    def _build_spare(self, name: str, boot: tuple[str, str] | None = None) -> Spare:
        """A sandbox held before its proxy starts, or with `boot`'s (language, interpreter)
        runtime started in it and waiting (on a spawn thread; see process_spares, process_boot)."""
        assert self.home is not None and self.sandbox is not None
        uid = self._uids.take() if self._root else None
        owner = (uid, uid) if uid is not None else None
        cgroup = None
        options_r = options_w = ready_r = ready_w = -1
        try:
            directory, layers, sock = self._directory(name, owner)
            try:
                options_r, options_w = os.pipe()
                fds: tuple[int, ...] = (sock.fileno(), options_r)
                if self.cgroups is not None:
                    cgroup = self.cgroups.create(name, DEFAULT_MEMORY_MB)
                if boot is None:
                    argv = [
                        self.python or "python3",
                        *("-E", "-s", PROXY_DIR),
                        *("--listen-fd", str(sock.fileno()), "--options-fd", str(options_r)),
                    ]
                else:
                    ready_r, ready_w = os.pipe()
                    fds += (ready_w,)
                    argv = booted_argv(
                        self.python or "python3",
                        *boot,
                        self.unzip_max,
                        sock.fileno(),
                        options_r,
                        ready_w,
                    )
                held = start_sandbox(
                    self.sandbox,
                    argv,
                    self._env(WORK_DIR),
                    self.home / "runtime" / "action_runtime",
                    directory / "work",
                    layers,
                    fds,
                    *(owner or (os.getuid(), os.getgid())),
                    cgroup,
                    self._root,
                )
                if boot is not None:
                    os.close(ready_w)  # the proxy's alone: EOF if it dies booting
                    ready_w = -1
                    try:
                        held.release()  # boot now: the proxy waits on the options pipe
                        wait_booted(ready_r)
                    except BaseException:
                        held.abandon()
                        raise
            except BaseException:
                if cgroup is not None:
                    cgroup.remove()
                if options_w >= 0:
                    os.close(options_w)
                shutil.rmtree(directory, ignore_errors=True)
                shutil.rmtree(layers, ignore_errors=True)
                raise
            finally:
                sock.close()  # the sandbox holds its own copies of both
                for fd in (options_r, ready_r, ready_w):
                    if fd >= 0:
                        os.close(fd)
        except BaseException:
            if uid is not None:
                self._uids.give_back(uid)
            raise
        pid_file = self.home / "pids" / name
        pid_file.write_text(str(held.proc.pid))
        return Spare(
            name,
            directory,
            layers,
            str(directory / "sock"),
            pid_file,
            uid,
            cgroup,
            held,
            options_w,
            boot,
        )

    def _start_plain(self, name: str, runtime: Runtime, interpreter: str) -> ProcessContainer:
        """The unsandboxed fallback's directory, socket and process (on a spawn thread)."""
        assert self.home is not None
        directory, layers, sock = self._directory(name, self._nobody)
        try:
            argv = [
                self.python or "python3",
                *("-E", "-s", str(self.home / "runtime" / "action_runtime")),
                *("--language", runtime.language, "--listen-fd", str(sock.fileno())),
                *("--interpreter", interpreter, "--kind", runtime.kind),
                *("--unzip-max", str(self.unzip_max)),
            ]
            proc = launch_plain(
                argv,
                self._env(str(directory / "work")),
                directory / "work",
                sock.fileno(),
                *(self._nobody or (None, None)),
            )
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            shutil.rmtree(layers, ignore_errors=True)
            raise
        finally:
            sock.close()  # the child holds its own copy
        pid_file = self.home / "pids" / name
        pid_file.write_text(str(proc.pid))
        return ProcessContainer(
            name, str(directory / "sock"), proc, directory, pid_file, (layers, str(layers))
        )


def _default_root() -> Path:
    return Path(tempfile.gettempdir()) / "pywhisk-containers"
