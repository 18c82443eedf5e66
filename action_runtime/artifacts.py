"""Turning the /init `code` into files in the work dir: source text, or a base64 zip."""

from __future__ import annotations

import binascii
import os
from pathlib import Path

# Local-file header, empty-archive end record, spanned-archive marker (as the Go proxy checks).
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


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


def install(code: str, binary: bool, work_dir: Path, entry: str) -> bool:
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
    unzip(data, work_dir)
    return True


def unzip(data: bytes, work_dir: Path) -> None:
    # Imported here: zipfile drags in shutil, threading and importlib.util, which only zipped
    # actions need, and start-up time is cold-start time.
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                # extract() drops absolute paths and '..' parts, so nothing lands outside, and
                # returns where the member went.
                target = archive.extract(info, work_dir)
                # zipfile ignores Unix modes: keep node_modules/.bin or venv scripts runnable.
                if (info.external_attr >> 16) & 0o111 and not info.is_dir():
                    os.chmod(target, 0o755)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise BadArchive(f"The action's zip file could not be unpacked: {exc}") from None
