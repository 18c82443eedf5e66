"""Zip actions' unpacked size: declared by the central directory (controller and runtime)
and counted while unpacking (runtime), before anything past the limit is written."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
from pathlib import Path

import pytest

from pywhisk.action_runtime import artifacts
from pywhisk.controller.core.archives import declared_size

CODE = b"def main(args):\n    return args\n"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lying(data: bytes, member: str, size: int) -> bytes:
    """`data` with `member`'s uncompressed size given as `size` in both of its headers."""
    patched = bytearray(data)
    name = member.encode()
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.find(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", patched, local + 22, size)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def written(work: Path) -> int:
    return sum(p.stat().st_size for p in work.rglob("*") if p.is_file())


def test_declared_size_over_the_limit_writes_nothing(tmp_path: Path) -> None:
    data = zipped({"__main__.py": CODE, "pad.bin": b"\0" * 3_000_000})
    with pytest.raises(artifacts.BadArchive, match=r"more than allowed: 3000032 > 1000000 bytes"):
        artifacts.unzip(data, tmp_path, 1_000_000)
    assert list(tmp_path.iterdir()) == []
    artifacts.unzip(data, tmp_path, 3_000_032)  # exactly at the limit
    assert written(tmp_path) == 3_000_032


def test_a_lying_header_unpacks_no_more_than_it_declares(tmp_path: Path) -> None:
    bomb = lying(zipped({"__main__.py": CODE, "pad.bin": b"\0" * 3_000_000}), "pad.bin", 100)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert sum(i.file_size for i in archive.infolist()) == len(CODE) + 100
    with pytest.raises(artifacts.BadArchive, match="could not be unpacked"):
        artifacts.unzip(bomb, tmp_path, 1_000_000)
    assert written(tmp_path) <= len(CODE) + 100


def test_inflated_bytes_are_counted_against_the_limit() -> None:
    """What extraction reads is counted as it comes, whatever the headers said."""
    totals: list[int] = []

    class Budget:
        written = 0

        def count(self, size: int) -> None:
            self.written += size
            totals.append(self.written)
            if self.written > 10:
                raise artifacts.too_big(self.written, 10)

    stream = artifacts._Counted(io.BytesIO(b"x" * 25), Budget())
    assert stream.read(8) == b"x" * 8
    with pytest.raises(artifacts.BadArchive, match="16 > 10 bytes"):
        stream.read(8)
    assert totals == [8, 16]


def test_install_passes_the_limit_on(tmp_path: Path) -> None:
    code = base64.b64encode(zipped({"__main__.py": CODE, "pad.bin": b"\0" * 5000})).decode()
    with pytest.raises(artifacts.BadArchive):
        artifacts.install(code, True, tmp_path, "__main__.py", unpacked_max=4096)
    assert artifacts.install(code, True, tmp_path, "__main__.py", unpacked_max=8192) is True
    assert (tmp_path / "__main__.py").read_bytes() == CODE


def test_the_controller_reads_the_declared_size() -> None:
    data = zipped({"a.py": CODE, "b/c.txt": b"y" * 1234})
    assert declared_size(base64.b64encode(data).decode()) == len(CODE) + 1234
    assert declared_size(base64.encodebytes(data).decode()) == len(CODE) + 1234  # line breaks
    assert declared_size(base64.b64encode(b"\x1f\x8b\x08 not a zip").decode()) is None
    assert declared_size(base64.b64encode(b"PK\x03\x04 truncated").decode()) is None
    assert declared_size("not base64 at all!") is None
