"""The one retry loop: what it tries again, how long it pauses, when it gives up."""

import asyncio

import pytest

from pywhisk.common.retry import Backoff, retry


class Flaky:
    """Fails with the given errors in order, then answers "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def recorder() -> tuple[list[float], object]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


def test_pauses_grow_by_the_factor_up_to_the_cap() -> None:
    assert list(Backoff(1.0, factor=3.0, retries=4).pauses()) == [1.0, 3.0, 9.0, 27.0]
    assert list(Backoff(0.08, factor=4, cap=5.0, retries=5).pauses()) == pytest.approx(
        [0.08, 0.32, 1.28, 5.0, 5.0]
    )


async def test_tries_again_after_each_failure_until_it_answers() -> None:
    slept, sleep = recorder()
    flaky = Flaky(OSError("a"), OSError("b"))
    seen: list[tuple[str, int, float]] = []
    answer = await retry(
        flaky,
        Backoff(0.5, factor=2),
        on=OSError,
        before_pause=lambda e, tries, pause: seen.append((str(e), tries, pause)),
        sleep=sleep,  # type: ignore[arg-type]
    )
    assert answer == "done" and flaky.calls == 3
    assert slept == [0.5, 1.0]
    assert seen == [("a", 1, 0.5), ("b", 2, 1.0)]


async def test_the_last_error_is_raised_when_the_retries_run_out() -> None:
    slept, sleep = recorder()
    flaky = Flaky(OSError("1"), OSError("2"), OSError("3"))
    with pytest.raises(OSError, match="3"):
        await retry(flaky, Backoff(1.0, retries=2), on=OSError, sleep=sleep)  # type: ignore[arg-type]
    assert flaky.calls == 3 and slept == [1.0, 1.0]


async def test_errors_outside_on_and_those_given_up_are_raised_at_once() -> None:
    slept, sleep = recorder()
    with pytest.raises(KeyError):
        await retry(Flaky(KeyError("k")), Backoff(1.0), on=OSError, sleep=sleep)  # type: ignore[arg-type]
    given_up = Flaky(OSError("for good"))
    with pytest.raises(OSError, match="for good"):
        await retry(
            given_up,
            Backoff(1.0),
            on=OSError,
            give_up=lambda e: "good" in str(e),
            sleep=sleep,  # type: ignore[arg-type]
        )
    assert given_up.calls == 1 and slept == []


async def test_no_pause_is_taken_past_the_deadline() -> None:
    slept, sleep = recorder()
    deadline = asyncio.get_running_loop().time() + 0.5
    flaky = Flaky(OSError("1"), OSError("2"))
    with pytest.raises(OSError, match="1"):
        await retry(flaky, Backoff(1.0), on=OSError, deadline=deadline, sleep=sleep)  # type: ignore[arg-type]
    assert flaky.calls == 1 and slept == []
