"""Waiting for something another process, thread or task will do: the one polling loop of the
test suite, for plain code and for coroutines.

A probe is called every `interval` seconds until what it returns passes `until` (truthy, by
default); that value is returned. Past `timeout`, the wait fails with an AssertionError that
says what was awaited and what the probe returned last (or the exception it raised, for the
exceptions named in `ignoring`), so that a red test shows how far things got rather than a
bare "timed out". The probe is always called once more after the deadline, so that a slow
machine that oversleeps the last interval does not fail a wait whose condition now holds.

The async variant keeps its own deadline rather than running under `asyncio.timeout`: a
cancelled wait would lose the last value seen, which is what the failure is for; a probe
that may hang (a request) bounds itself with its own timeout.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast, overload

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold within the timeout."""


def wait_until(
    probe: Callable[[], T],
    message: str,
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    until: Callable[[T], object] = bool,
    ignoring: tuple[type[BaseException], ...] = (),
    details: Callable[[], object] | None = None,
) -> T:
    """Call `probe` until its value passes `until`, and return that value; fail after
    `timeout` seconds naming `message` ("what we wait for") and the last value seen, then
    `details()` if given (a cluster's logs: computed only on failure). Exceptions in
    `ignoring` (a server not listening yet) count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: object = None  # set by the first call, which always happens
    while True:
        past = time.monotonic() >= deadline
        try:
            value = probe()
        except ignoring as error:
            last = error
        else:
            if until(value):
                return value
            last = value
        if past:
            raise WaitTimeout(_failure(message, timeout, last, details))
        time.sleep(interval)


@overload
async def wait_until_async(
    probe: Callable[[], Awaitable[T]],
    message: str,
    *,
    timeout: float = ...,  # noqa: ASYNC109
    interval: float = ...,
    until: Callable[[T], object] = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
    details: Callable[[], object] | None = ...,
) -> T: ...


@overload
async def wait_until_async(
    probe: Callable[[], T],
    message: str,
    *,
    timeout: float = ...,  # noqa: ASYNC109
    interval: float = ...,
    until: Callable[[T], object] = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
    details: Callable[[], object] | None = ...,
) -> T: ...


async def wait_until_async(
    probe: Callable[[], Awaitable[T]] | Callable[[], T],
    message: str,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 - see the module's docstring
    interval: float = 0.05,
    until: Callable[[T], object] = bool,
    ignoring: tuple[type[BaseException], ...] = (),
    details: Callable[[], object] | None = None,
) -> T:
    """`wait_until` for a test's event loop: the probe may be a coroutine function (a store
    read) or a plain one (what another task records), and the loop runs between calls."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None  # set by the first call, which always happens
    while True:
        past = loop.time() >= deadline
        try:
            got = probe()
            value = cast(T, await got if inspect.isawaitable(got) else got)
        except ignoring as error:
            last = error
        else:
            if until(value):
                return value
            last = value
        if past:
            raise WaitTimeout(_failure(message, timeout, last, details))
        await asyncio.sleep(interval)


def _failure(
    message: str, timeout: float, last: object, details: Callable[[], object] | None
) -> str:
    failure = f"waited {timeout:g} s for {message}; last seen: {_shorten(repr(last))}"
    return failure if details is None else f"{failure}\n{details()}"


def _shorten(text: str, limit: int = 2_000) -> str:
    """Its beginning and its end (where a log's latest lines are)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} …({len(text) - limit} characters)… {text[-half:]}"
