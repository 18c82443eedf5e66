"""A runtime booted ahead waits for its adoption (`--adopt-fd`, see cli.py): the options
known only once an action takes its container arrive on a pipe, closed after them."""

from __future__ import annotations

import asyncio
import os
import sys

from .proxy import ActionProxy


class AdoptionError(ValueError):
    """The adoption sent an option that cannot change once the launcher runs."""


def late_kind(args: list[str]) -> str | None:
    """The `--kind` among the options an adoption sends; nothing else may change once the
    launcher runs."""
    kind = None
    while args:
        flag, sep, value = args.pop(0).partition("=")
        if flag != "--kind":
            raise AdoptionError(f"only --kind can come at adoption, not {flag}")
        if not sep:
            if not args:
                raise AdoptionError("--kind needs a value")
            value = args.pop(0)
        kind = value
    return kind


async def read_to_eof(fd: int) -> bytes:
    """All of `fd` until its writer closes it (then closed), without blocking the loop."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    done: asyncio.Future[None] = loop.create_future()
    chunks: list[bytes] = []

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            chunks.append(chunk)
        elif not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    return b"".join(chunks)


async def adopted(fd: int, proxy: ActionProxy) -> bool:
    """Wait for the adoption (EOF on `fd`) and take its kind.

    False when the pipe closed with nothing in it: an adoption always sends the kind, so
    the invoker that booted us is gone (SIGKILLed before it could adopt or discard us, at a
    moment when bwrap's parent-death signal could not take us down with it). Nothing will
    ever connect to our socket then, and the caller exits instead of serving.
    """
    args = [a for a in (await read_to_eof(fd)).decode().split("\0") if a]
    if not args:
        return False
    try:
        kind = late_kind(args)
    except AdoptionError as exc:
        print(f"action_runtime: --adopt-fd: {exc}", file=sys.stderr, flush=True)
        return True
    if kind:
        proxy.language = proxy.language.with_kind(kind)
        if proxy.launcher is None:
            proxy.problem = proxy.language.missing_message()
    return True
