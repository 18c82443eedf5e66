"""The local base image, `pywhisk/base:bookworm`, made without any registry.

debootstrap fetches Debian's packages from the Debian mirror into a root filesystem (python3
for the proxy, php-cli; Node.js 20 comes separately, see images.py), which is slimmed, packed
into a tarball and `docker import`ed. Both the root filesystem and the tarball stay in the cache
directory, so the slow step (debootstrap, about a minute) happens once per machine and a lost
image is re-imported from the tarball in seconds.

Also home to what the image code shares: the error type and the progress reporter.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BASE_IMAGE = "pywhisk/base:bookworm"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "php-cli")
ROOTFS = "rootfs"
PHASE = re.compile(r"I: (\w+ .*(packages|system)\.\.\.|Base system installed successfully)")
TARBALL = f"base-{SUITE}.tar"
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
]
# What Debian's slim images leave out too; kept out of later apt installs by dpkg.cfg.d below.
SLIM_DIRS = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale")
DPKG_SLIM = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
"""


class ImageError(Exception):
    """An image could not be had; the message says why and what to do."""


class Reporter:
    """Progress: `step` lines (with seconds since the start) always, `detail` lines if verbose."""

    def __init__(
        self, progress: Callable[[str], None], log: Callable[[str], None] | None = None
    ) -> None:
        self._progress = progress
        self._log = log
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def step(self, message: str) -> None:
        self._progress(f"[{self.elapsed:6.1f}s] {message}")

    def detail(self, line: str) -> None:
        if self._log is not None:
            self._log(f"           {line}")


def cache_dir() -> Path:
    """Where the root filesystem, its tarball and Node.js are kept, and the tests' pouchdb-server
    (PYWHISK_CACHE_DIR wins)."""
    if os.environ.get("PYWHISK_CACHE_DIR"):
        return Path(os.environ["PYWHISK_CACHE_DIR"])
    if os.geteuid() == 0:
        return Path("/var/cache/pywhisk")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pywhisk"


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One builder at a time per cache directory (two would debootstrap into the same place)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_base(client: Any, report: Reporter, directory: Path) -> Any:
    """The base image, imported (and first debootstrapped) if Docker does not have it."""
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        image = client.images.get(BASE_IMAGE)
        report.step(f"base {BASE_IMAGE}: present ({short_id(image.id)}, {_mb(image)})")
        return image
    tarball = directory / TARBALL
    if not tarball.exists() and Path("/var/cache/pywhisk", TARBALL).exists():
        tarball = Path("/var/cache/pywhisk", TARBALL)  # made by root, readable by all
    if tarball.exists():
        report.step(f"base {BASE_IMAGE}: missing; importing the cached {tarball}")
    else:
        rootfs = directory / ROOTFS
        if is_complete(rootfs):
            report.step(f"base {BASE_IMAGE}: missing; reusing the root filesystem {rootfs}")
        else:
            debootstrap(rootfs, report)
        pack(rootfs, tarball, report)
    started = time.monotonic()
    client.api.import_image_from_file(
        str(tarball), repository=BASE_IMAGE.split(":")[0], tag=SUITE, changes=IMPORT_CHANGES
    )
    image = client.images.get(BASE_IMAGE)
    report.step(
        f"base {BASE_IMAGE}: imported in {time.monotonic() - started:.1f}s "
        f"({short_id(image.id)}, {_mb(image)})"
    )
    return image


def is_complete(rootfs: Path) -> bool:
    # debootstrap removes its work directory inside the target only when it succeeded.
    return (rootfs / "etc/debian_version").exists() and not (rootfs / "debootstrap").exists()


def debootstrap(rootfs: Path, report: Reporter) -> None:
    _need_root(f"debootstrap into {rootfs}")
    program = shutil.which("debootstrap") or shutil.which("/usr/sbin/debootstrap")
    if program is None:
        raise ImageError(
            "debootstrap is not installed; it builds the base image's root filesystem. "
            "Install it with `apt-get install debootstrap` (or pass --base IMAGE to build "
            "from an image you can pull)."
        )
    if rootfs.exists():
        report.step(f"removing the incomplete root filesystem {rootfs}")
        _unmount_below(rootfs)
        shutil.rmtree(rootfs)
    command = [
        program,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(rootfs),
        MIRROR,
    ]
    report.step(f"debootstrap {SUITE} with {', '.join(PACKAGES)} into {rootfs} (about a minute)")
    log_path = rootfs.parent / "debootstrap.log"
    tail: deque[str] = deque(maxlen=15)
    announced: set[str] = set()
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            log_file.write(raw)
            tail.append(line)
            report.detail(line)
            # Most lines name one package ("I: Retrieving libc6 2.36-9"): progress is the
            # phases ("I: Unpacking the base system...") and each per-package verb once.
            words = line.split()
            verb = words[1] if line.startswith("I: ") and len(words) > 1 else ""
            if PHASE.match(line):
                report.step(f"debootstrap: {line[3:].rstrip('.')}")
            elif verb in ("Retrieving", "Extracting") and verb not in announced:
                announced.add(verb)
                report.step(f"debootstrap: {verb.lower()} packages")
        code = process.wait()
    if code != 0 or not is_complete(rootfs):
        raise ImageError(
            f"debootstrap failed (exit {code}; full log in {log_path}); last lines:\n"
            + "\n".join(tail)
        )
    report.step(f"debootstrap: done, {_du(rootfs)}")


def pack(rootfs: Path, tarball: Path, report: Reporter) -> None:
    """Slim the root filesystem and pack it as the tarball `docker import` reads."""
    _need_root(f"pack {rootfs}")
    slim(rootfs)
    partial = tarball.with_name(tarball.name + ".partial")
    command = ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial)]
    # Docker provides these at run time; device nodes have no business in a layer.
    command += [f"--exclude=./{name}/*" for name in ("dev", "proc", "sys", "run", "tmp")]
    done = subprocess.run([*command, "."], capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ImageError(f"packing {rootfs} failed: {done.stderr.strip()}")
    partial.replace(tarball)
    report.step(f"packed {tarball} ({tarball.stat().st_size / 1e6:.0f} MB)")


def slim(rootfs: Path) -> None:
    """Drop downloaded .debs, apt lists, docs (not copyrights), man pages and translations."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*"):
        for path in rootfs.glob(pattern):
            if path.is_file() and path.name != "lock":
                path.unlink()
    for name in SLIM_DIRS:
        for dirpath, _dirs, files in os.walk(rootfs / name):
            for file in files:
                if file not in ("copyright", "locale.alias"):
                    os.unlink(os.path.join(dirpath, file))
    dpkg_config = rootfs / "etc/dpkg/dpkg.cfg.d/pywhisk-slim"
    dpkg_config.parent.mkdir(parents=True, exist_ok=True)
    dpkg_config.write_text(DPKG_SLIM)


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ImageError(
            f"To {what} (making the base image {BASE_IMAGE}) root is needed: run "
            "`sudo pywhisk images build` once (later builds reuse the image), or pass "
            "--base IMAGE to build from an image you can pull."
        )


def _unmount_below(rootfs: Path) -> None:
    """An interrupted debootstrap can leave /proc or /sys mounted inside its target."""
    prefix = str(rootfs.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def _du(path: Path) -> str:
    done = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True)
    return done.stdout.split()[0] if done.returncode == 0 else "?"


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def _mb(image: Any) -> str:
    return f"{image.attrs.get('Size', 0) / 1e6:.0f} MB"
