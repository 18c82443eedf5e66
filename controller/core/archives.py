"""How many bytes a zipped action declares it unpacks to, checked at create/update.

A 500 KB zip can unpack to 300 MB or far more; refusing it when it is stored tells its
author at once (400), instead of at every cold start as a developer error. The sizes come
from the zip's central directory, the uploader's own word: the runtime counts the bytes it
really writes as well (action_runtime/artifacts.py), so a lying archive still stops there.
Reading the directory needs the base64 decoded: about 60 ms for OpenWhisk's 48 MB code
limit, so it runs in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import binascii
import io
import zipfile

from pywhisk.common.entities import Exec
from pywhisk.controller.core.errors import ApiError

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def declared_size(code: str) -> int | None:
    """The sum of the members' uncompressed sizes of base64 zip `code`; None when it is not a
    readable zip (the runtime then says what is wrong with it, as OpenWhisk's do)."""
    try:
        data = binascii.a2b_base64("".join(code.split()).encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if data[:4] not in _ZIP_MAGICS:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        return None


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        400,
        f"The action's zip file unpacks to more than allowed: {size} > {limit} bytes.",
    )


async def check_unpacked(exec_: Exec, limit: int) -> None:
    """400 when `exec_` is a zip declaring more than `limit` bytes unpacked."""
    if not exec_.binary or not exec_.code:
        return
    size = await asyncio.to_thread(declared_size, exec_.code)
    if size is not None and size > limit:
        raise too_large(size, limit)
