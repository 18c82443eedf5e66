"""Layers merged into one /opt tree (invoker/containers/layer_tree.py): Lambda's order (later
layers win), symlinks kept, names cleaned, nothing written outside the tree, the size limit,
and the tar a Docker engine unpacks as root."""

from __future__ import annotations

import base64
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from pywhisk.invoker.containers.layer_tree import LayerError, LayerTree, remove

MB = 1024 * 1024


def layer(name: str, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> dict:
    """A layer as the store holds it; a name ending in "*" is executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            executable = path.endswith("*")
            info = zipfile.ZipInfo(path.rstrip("*"))
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            archive.writestr(info, content)
        for path, target in (links or {}).items():
            info = zipfile.ZipInfo(path)
            info.external_attr = (0o777 | stat.S_IFLNK) << 16
            archive.writestr(info, target)
    return {"name": f"ns/{name}", "code": base64.b64encode(buffer.getvalue()).decode()}


def written(root: Path) -> dict[str, str]:
    """What a tree holds: files' text, links' targets (as `-> target`), directories as '/'."""
    found: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif path.is_dir():
                found[key] = "/"
            else:
                found[key] = path.read_text()
    return found


def test_later_layers_win_and_links_stay_links(tmp_path: Path) -> None:
    first = layer(
        "php",
        {"bootstrap*": "#!/bin/sh\n", "bin/php*": "php 8.1", "lib/old/x": "x", "share": "a file"},
        {"lib/libx.so": "libx.so.1", "bin/php-current": "/opt/bin/php"},
    )
    second = layer(
        "newer",
        {"bin/php*": "php 8.3", "lib/old": "now a file", "share/doc": "now a directory"},
        {"lib/libx.so.1": "/usr/lib/x86_64-linux-gnu/libx.so.1"},
    )
    tree = LayerTree.of([first, second], 256 * MB)
    root = tmp_path / "opt"
    root.mkdir()
    tree.write_into(root)
    assert written(root) == {
        "bootstrap": "#!/bin/sh\n",
        "bin": "/",
        "bin/php": "php 8.3",
        "bin/php-current": "-> php",  # /opt/… made relative: it holds wherever the tree is
        "lib": "/",
        "lib/old": "now a file",  # the earlier directory (and lib/old/x) gone
        "lib/libx.so": "-> libx.so.1",
        "lib/libx.so.1": "-> /usr/lib/x86_64-linux-gnu/libx.so.1",
        "share": "/",
        "share/doc": "now a directory",
    }
    assert stat.S_IMODE((root / "bootstrap").stat().st_mode) == 0o555
    assert stat.S_IMODE((root / "lib/old").stat().st_mode) == 0o444
    assert all(stat.S_IMODE(d.stat().st_mode) == 0o555 for d in (root, root / "bin", root / "lib"))
    remove(root)
    assert not root.exists()


def test_nothing_is_written_outside_the_tree(tmp_path: Path) -> None:
    """Names climbing out are cleaned as zipfile cleans them, and a directory a link stood
    for is a real one by the time a later member goes under it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = layer(
        "hostile",
        {"../../escaped": "no", "/abs/olute": "no", "./ok": "yes"},
        {"lib": str(outside), "up": "../.."},
    )
    later = layer("later", {"lib/planted": "planted", "up/planted": "planted"})
    root = tmp_path / "opt"
    root.mkdir()
    LayerTree.of([hostile, later], MB).write_into(root)
    assert list(outside.iterdir()) == []
    assert written(root) == {
        "escaped": "no",
        "abs": "/",
        "abs/olute": "no",
        "ok": "yes",
        "lib": "/",
        "lib/planted": "planted",
        "up": "/",
        "up/planted": "planted",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opt", "outside"]


def test_sizes_are_limited_before_anything_is_written() -> None:
    big = layer("big", {"blob": b"\0" * (2 * MB)})
    with pytest.raises(LayerError, match=r"unpack to more than allowed: \d+ > 1048576 bytes"):
        LayerTree.of([layer("small", {"a": "a"}), big], MB)


def test_an_unusable_layer_is_named() -> None:
    with pytest.raises(LayerError, match="The layer ns/junk: The layer's code is not a zip file"):
        LayerTree.of([{"name": "ns/junk", "code": base64.b64encode(b"junk").decode()}], MB)


def test_the_tar_for_docker_is_roots_and_read_only() -> None:
    tree = LayerTree.of(
        [layer("tools", {"bin/tool*": "#!/bin/sh\necho hi\n", "lib/libx.so.1": "elf"},
               {"lib/libx.so": "libx.so.1"})],
        MB,
    )  # fmt: skip
    out = io.BytesIO()
    tree.write_tar(out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == ["bin", "bin/tool", "lib", "lib/libx.so", "lib/libx.so.1"]
        assert all(m.uid == 0 and m.gid == 0 for m in members.values())
        assert members["bin"].isdir() and members["bin"].mode == 0o555
        assert members["bin/tool"].mode == 0o555 and members["lib/libx.so.1"].mode == 0o444
        assert members["lib/libx.so"].issym() and members["lib/libx.so"].linkname == "libx.so.1"
        extracted = tar.extractfile("bin/tool")
        assert extracted is not None and extracted.read() == b"#!/bin/sh\necho hi\n"


def test_a_mount_point_made_before_is_kept(tmp_path: Path) -> None:
    """The sandbox mounts a host interpreter kept under /opt (e.g. /opt/node) over the layers,
    at a directory made before they are written: a layer's directory of that name joins it."""
    root = tmp_path / "opt"
    (root / "node").mkdir(parents=True)
    LayerTree.of([layer("js", {"node/lib.js": "x", "bin/run*": "#!/bin/sh\n"})], MB).write_into(
        root
    )
    assert written(root) == {"node": "/", "node/lib.js": "x", "bin": "/", "bin/run": "#!/bin/sh\n"}
    with pytest.raises(LayerError, match="File exists"):
        LayerTree.of([layer("clash", {"bin": "a file where a directory is"})], MB).write_into(root)
