"""Turning the /init `code` into files in the work dir: source text, or a base64 zip.

A zip is unpacked only if it holds at most `UNPACKED_MAX` bytes (256 MB; `--unzip-max`):
a 500 KB zip can unpack to 300 MB or far more (a "zip bomb") and fill the disk the
invoker's other containers share. The sizes its central directory declares are summed
before anything is written, and the bytes actually written are counted too, since those
headers are the uploader's word: a member that inflates past its declared size stops
the extraction as soon as the total passes the limit. The controller refuses an archive
declaring more at create/update already; this is the check nothing can get past.
256 MB leaves a 48 MB zip (OpenWhisk's code limit) of ordinary code, which compresses
3-5 times, room to unpack, while a bomb's ratio of 1000 or more stops early.
"""

from __future__ import annotations

import binascii
import os
from pathlib import Path
from typing import Any

# Local-file header, empty-archive end record, spanned-archive marker (as the Go proxy checks).
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
UNPACKED_MAX = 256 * 1024 * 1024


class BadCode(ValueError):
    """The code could not be decoded at all (the request is malformed: HTTP 400)."""


class BadArchive(ValueError):
    """The code decoded but is not a usable archive (the action is broken: HTTP 502)."""


def decode_base64(code: str) -> bytes:
    """Strict base64, tolerating the line breaks some encoders insert every 76 characters."""
    compact = "".join(code.split())
    try:
        return binascii.a2b_base64(compact.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise BadCode(f"Invalid base64 code: {exc}") from None


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGICS


def install(
    code: str, binary: bool, work_dir: Path, entry: str, unpacked_max: int = UNPACKED_MAX
) -> bool:
    """Write the action's code into `work_dir`; True when it was an unpacked zip.

    Source text (or a binary that is not a zip) becomes the language's entry file; a zip is
    unpacked as is, and the launcher checks that its entry file is there (so the message can
    name what that language expects).
    """
    if not binary:
        (work_dir / entry).write_text(code, encoding="utf-8")
        return False
    data = decode_base64(code)
    if not is_zip(data):
        (work_dir / entry).write_bytes(data)
        return False
    unzip(data, work_dir, unpacked_max)
    return True


def unzip(data: bytes, work_dir: Path, unpacked_max: int = UNPACKED_MAX) -> list[str]:
    """Unpack `data` under `work_dir`; the files written."""
    # Imported here: zipfile drags in shutil, threading and importlib.util, which only zipped
    # actions need, and start-up time is cold-start time.
    import io
    import zipfile

    class CountingZipFile(zipfile.ZipFile):
        """extract() reads each member through open(): count what it inflates."""

        written = 0

        def open(self, name: Any, mode: Any = "r", *args: Any, **kwargs: Any) -> Any:
            stream = super().open(name, mode, *args, **kwargs)
            return _Counted(stream, self) if mode == "r" else stream

        def count(self, size: int) -> None:
            self.written += size
            if self.written > unpacked_max:
                raise too_big(self.written, unpacked_max)

    written = []
    try:
        with CountingZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            declared = sum(info.file_size for info in members)
            if declared > unpacked_max:
                raise too_big(declared, unpacked_max)
            for info in members:
                # extract() drops absolute paths and '..' parts, so nothing lands outside, and
                # returns where the member went.
                target = archive.extract(info, work_dir)
                # zipfile ignores Unix modes: keep node_modules/.bin or venv scripts runnable.
                if (info.external_attr >> 16) & 0o111 and not info.is_dir():
                    os.chmod(target, 0o755)
                if not info.is_dir():
                    written.append(target)
    except BadArchive:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise BadArchive(f"The action's zip file could not be unpacked: {exc}") from None
    return written


def preload() -> None:
    """Import what unzipping needs now: a runtime booted ahead of its action (`--adopt-fd`)
    has the time, and a zipped action's /init then does not wait for these imports."""
    import io  # noqa: F401
    import zipfile  # noqa: F401


def too_big(size: int, limit: int) -> BadArchive:
    return BadArchive(
        f"The action's zip file unpacks to more than allowed: {size} > {limit} bytes."
    )


class _Counted:
    """A member being extracted: reads pass through, and their sizes are counted."""

    def __init__(self, stream: Any, owner: Any) -> None:
        self._stream = stream
        self._owner = owner

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._stream.read(n)
        self._owner.count(len(data))
        return data

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()
