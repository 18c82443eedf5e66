"""An action's layers merged into the one tree its containers get at /opt, read-only.

Lambda unpacks a function's layers in order under /opt, a later layer's file replacing an
earlier one's. Here the zips are read once, when the invoker prepares an action revision
(their central directories only: a few ms), into one merged listing that says, for each path,
which layer's member provides it. Each container then gets that tree written by the invoker,
never by the action's own processes, where the action cannot change it whichever uid it runs
as: a host directory that the process sandbox mounts read-only at /opt (process.py), or a
tar stream that the Docker engine unpacks under the image's root-owned /opt as root
(docker_container.py).

Merging, later layer first: a file or symlink replaces whatever the path held (a directory
with everything under it); a directory replaces an earlier file or symlink. Member names are
cleaned as zipfile's extract() cleans them (no leading '/', no '.' or '..' parts), so nothing
lands outside the tree. Symlinks (a Unix zip keeps one as a member whose mode says S_IFLNK
and whose data is its target) stay symlinks, as shared libraries' version chains
(`libx.so -> libx.so.1`) need; a target under /opt/ is made relative, so that it also holds
where the tree is not at /opt (process containers without the sandbox).

Writing a directory never follows a link an archive made: no entry lies under a
non-directory, every directory is made by the writer, and files are created with
O_EXCL|O_NOFOLLOW.

Size: the sizes the members declare are summed against the unpacked limit (the one an
action's zip has, 256 MB) before anything is written; zipfile never yields more than a
member declares (and checks its CRC), so the declaration bounds the disk a tree takes.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pywhisk.common.entities.layer import InvalidLayer, decode_zip

DIR_MODE = 0o555
FILE_MODE = 0o444
EXEC_MODE = 0o555
_MTIME = 1_700_000_000  # fixed: the same layers give the same bytes


class LayerError(ValueError):
    """The layers cannot be unpacked (bad zip, too big); the message is for the developer."""


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative, cleaned: "bin/php"
    kind: str  # "dir", "file" or "symlink"
    mode: int
    layer: int = -1  # the zip it comes from (files and symlinks)
    member: str = ""  # its name in that zip
    size: int = 0
    target: str = ""  # symlinks


class LayerTree:
    """The merged listing of an action's layers; writes it into a directory or a tar."""

    def __init__(self, zips: list[bytes], entries: list[Entry]) -> None:
        self._zips = zips
        self.entries = entries  # sorted: a directory before what it holds

    @classmethod
    def of(cls, layers: list[dict[str, str]], unpacked_max: int) -> LayerTree:
        """From the resolved layers (`{"name", "code"}` each, in order); LayerError if unusable."""
        zips: list[bytes] = []
        tree: dict[str, Entry] = {}
        declared = 0
        for index, layer in enumerate(layers):
            try:
                data = decode_zip(layer["code"])
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    members = archive.infolist()
                    symlinks = {
                        info.filename: archive.read(info).decode("utf-8", "surrogateescape")
                        for info in members
                        if stat.S_ISLNK(info.external_attr >> 16)
                    }
            except InvalidLayer as exc:
                raise LayerError(f"The layer {layer['name']}: {exc}") from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise LayerError(f"The layer {layer['name']} is not a usable zip: {exc}") from None
            zips.append(data)
            for info in members:
                path = clean(info.filename)
                if not path:
                    continue
                if info.is_dir():
                    _put(tree, Entry(path, "dir", DIR_MODE))
                elif info.filename in symlinks:
                    target = relative_target(path, symlinks[info.filename])
                    _put(tree, Entry(path, "symlink", 0o777, index, info.filename, 0, target))
                else:
                    declared += info.file_size
                    mode = EXEC_MODE if (info.external_attr >> 16) & 0o111 else FILE_MODE
                    _put(tree, Entry(path, "file", mode, index, info.filename, info.file_size))
            if declared > unpacked_max:
                raise LayerError(
                    f"The action's layers unpack to more than allowed: {declared} > "
                    f"{unpacked_max} bytes."
                )
        return cls(zips, [tree[path] for path in sorted(tree)])

    # -- writing ---------------------------------------------------------------------------

    def _members(self) -> Iterator[tuple[Entry, IO[bytes] | None]]:
        """Each entry with a stream of its content (files), in order."""
        archives = [zipfile.ZipFile(io.BytesIO(data)) for data in self._zips]
        try:
            for entry in self.entries:
                if entry.kind == "file":
                    with archives[entry.layer].open(entry.member) as stream:
                        yield entry, stream
                else:
                    yield entry, None
        finally:
            for archive in archives:
                archive.close()

    def write_tar(self, out: IO[bytes]) -> None:
        """The tree as a tar stream, everything root's: what a Docker engine unpacks."""
        try:
            with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for entry, stream in self._members():
                    info = tarfile.TarInfo(entry.path)
                    info.mode, info.mtime = entry.mode, _MTIME
                    info.uname = info.gname = "root"
                    if entry.kind == "dir":
                        info.type = tarfile.DIRTYPE
                    elif entry.kind == "symlink":
                        info.type, info.linkname = tarfile.SYMTYPE, entry.target
                    else:
                        info.size = entry.size
                    tar.addfile(info, stream)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise LayerError(f"The action's layers could not be unpacked: {exc}") from None

    def write_into(self, root: Path) -> None:
        """The tree under `root`, an empty directory the caller made, every part of it
        read-only (the action cannot write it anyway: root owns it, or the sandbox mounts it
        read-only; the modes say so to a non-root invoker's unsandboxed actions too)."""
        try:
            for entry, stream in self._members():
                target = root / entry.path
                if entry.kind == "dir":
                    try:
                        os.mkdir(target, 0o755)
                    except FileExistsError:  # a mount point the sandbox needs (process.py)
                        if not stat.S_ISDIR(os.lstat(target).st_mode):
                            raise
                elif entry.kind == "symlink":
                    os.symlink(entry.target, target)
                else:
                    assert stream is not None
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                    fd = os.open(target, flags, 0o600)
                    with open(fd, "wb") as file:
                        while chunk := stream.read(1 << 20):
                            file.write(chunk)
                        os.fchmod(file.fileno(), entry.mode)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise LayerError(f"The action's layers could not be unpacked: {exc}") from None
        for directory in [root, *(root / e.path for e in self.entries if e.kind == "dir")]:
            os.chmod(directory, DIR_MODE)


def remove(root: Path) -> None:
    """Remove a tree `write_into` made: its directories lost their write bits, which only
    root can do without."""
    if os.geteuid() != 0:
        for directory, _, _ in os.walk(root):  # into real directories only, never links
            os.chmod(directory, 0o755)
    shutil.rmtree(root, ignore_errors=True)


def clean(name: str) -> str:
    """A member name as zipfile's extract() would place it: '' when nothing is left."""
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


def relative_target(path: str, target: str) -> str:
    """`target` of the link at `path`; one under /opt/ relative to the link's directory."""
    if target == "/opt" or target.startswith("/opt/"):
        inside = clean(target[len("/opt") :])
        return os.path.relpath(inside or ".", os.path.dirname(path) or ".")
    return target


def _put(tree: dict[str, Entry], entry: Entry) -> None:
    """Add `entry` as a later layer's: it replaces what it conflicts with."""
    parts = entry.path.split("/")
    for depth in range(1, len(parts)):  # its parents become directories
        parent = "/".join(parts[:depth])
        held = tree.get(parent)
        if held is None or held.kind != "dir":
            if held is not None:
                _drop_under(tree, parent)
            tree[parent] = Entry(parent, "dir", DIR_MODE)
    held = tree.get(entry.path)
    if held is not None and held.kind == "dir" and entry.kind == "dir":
        return
    if held is not None and held.kind == "dir":
        _drop_under(tree, entry.path)
    tree[entry.path] = entry


def _drop_under(tree: dict[str, Entry], path: str) -> None:
    prefix = path + "/"
    for key in [k for k in tree if k.startswith(prefix)]:
        del tree[key]
