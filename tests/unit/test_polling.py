"""The test suite's polling helper: what it returns, and what its failure says."""

from __future__ import annotations

import itertools

import pytest

from tests.support.polling import WaitTimeout, wait_until, wait_until_async


def test_returns_the_first_value_that_passes() -> None:
    counter = itertools.count()
    assert (
        wait_until(lambda: next(counter), "a count of 3", interval=0, until=lambda n: n >= 3) == 3
    )


def test_a_timeout_names_what_was_awaited_and_the_last_value_seen() -> None:
    with pytest.raises(WaitTimeout) as failed:
        wait_until(
            lambda: {"status": "running"},
            "the job to finish",
            timeout=0.05,
            interval=0.01,
            until=lambda job: job["status"] == "done",
        )
    assert str(failed.value).startswith("waited 0.05 s for the job to finish; last seen: ")
    assert str(failed.value).endswith("{'status': 'running'}")
    assert isinstance(failed.value, AssertionError)  # pytest shows it as a failed assertion


def test_details_are_added_to_the_failure() -> None:
    with pytest.raises(WaitTimeout, match="last seen: False\ncontroller log: boom"):
        wait_until(lambda: False, "x", timeout=0, details=lambda: "controller log: boom")


def test_ignored_exceptions_mean_not_yet_and_show_as_the_last_value() -> None:
    calls = itertools.count()

    def probe() -> str:
        if next(calls) < 2:
            raise ConnectionError("refused")
        return "up"

    assert wait_until(probe, "the server", interval=0, ignoring=(ConnectionError,)) == "up"

    def refused() -> str:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match=r"last seen: ConnectionError\('refused'\)"):
        wait_until(refused, "the server", timeout=0, ignoring=(ConnectionError,))


def test_other_exceptions_end_the_wait_at_once() -> None:
    def broken() -> bool:
        raise KeyError("status")

    with pytest.raises(KeyError):
        wait_until(broken, "x", timeout=60)


def test_the_probe_runs_once_more_after_the_deadline() -> None:
    """An oversleeping machine (here: an interval past the timeout): the condition that holds
    by the time the sleeper wakes still counts."""
    calls = itertools.count()
    assert wait_until(lambda: next(calls) == 1, "the second call", timeout=0.01, interval=0.05)


async def test_the_async_variant_awaits_coroutine_probes_and_calls_plain_ones() -> None:
    seen: list[int] = []

    async def read() -> list[int]:
        seen.append(len(seen))
        return seen

    assert await wait_until_async(read, "three reads", interval=0, until=lambda s: len(s) == 3)
    assert await wait_until_async(lambda: len(seen), "a length", interval=0) == 3
    with pytest.raises(WaitTimeout, match=r"waited 0 s for four reads; last seen: \[0, 1, 2, 3\]"):
        await wait_until_async(read, "four reads", timeout=0, until=lambda s: len(s) > 4)


def test_a_long_last_value_keeps_its_beginning_and_its_end() -> None:
    """A log's latest lines are at its end."""
    log = "first line\n" + "x" * 10_000 + "\nthe latest line"
    with pytest.raises(WaitTimeout) as failed:
        wait_until(lambda: log, "a line", timeout=0, until=lambda text: "never" in text)
    shown = str(failed.value)
    assert "'first line" in shown and shown.endswith("the latest line'") and len(shown) < 2_200
