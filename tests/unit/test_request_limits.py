"""Pure limits on what a request may carry: JSON nesting, throttle accounting."""

from __future__ import annotations

import time

import orjson
import pytest

from pywhisk.common import jsonio
from pywhisk.common.config import Settings
from pywhisk.common.entities import Identity, NamespaceLimits
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.throttles import Throttles


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [1, 50, jsonio.MAX_DEPTH])
def test_up_to_the_limit_parses(depth: int) -> None:
    assert jsonio.loads_bounded(nested(depth)) == orjson.loads(nested(depth))


@pytest.mark.parametrize("depth", [jsonio.MAX_DEPTH + 1, 254, 255, 300, 1000])
def test_deeper_is_refused(depth: int) -> None:
    with pytest.raises(jsonio.TooDeep, match="JSON nested deeper than 100 levels"):
        jsonio.loads_bounded(nested(depth))


def test_past_orjsons_own_limit_is_a_decode_error() -> None:
    with pytest.raises(jsonio.JSONDecodeError):
        jsonio.loads_bounded(nested(2000))


def test_many_shallow_containers_are_not_deep() -> None:
    """More brackets than the limit, but side by side: the slow path must say fine."""
    body = orjson.dumps({"items": [{"a": [i, {"b": i}]} for i in range(5000)]})
    assert body.count(b"{") + body.count(b"[") > jsonio.MAX_DEPTH
    assert jsonio.loads_bounded(body)["items"][4999] == {"a": [4999, {"b": 4999}]}


def test_brackets_inside_strings_do_not_count() -> None:
    body = orjson.dumps({"text": "[" * 500 + "{" * 500})
    assert jsonio.loads_bounded(body) == {"text": "[" * 500 + "{" * 500}


def identity(**limits: int) -> Identity:
    return Identity(
        namespace="ns", subject="ns", uuid="u", key="k", limits=NamespaceLimits(**limits)
    )


def minute_left(spare: float) -> None:
    while time.time() % 60 > 60 - spare:
        time.sleep(0.5)


def test_concurrency_refusals_do_not_count_per_minute() -> None:
    throttles = Throttles(Settings())
    caller = identity(invocationsPerMinute=2, concurrentInvocations=1)
    minute_left(2)
    throttles.check_invoke(caller, in_flight=0)
    for _ in range(10):
        with pytest.raises(ApiError, match="concurrent"):
            throttles.check_invoke(caller, in_flight=1)
    throttles.check_invoke(caller, in_flight=0)  # the second of two this minute
    with pytest.raises(ApiError, match=r"in the last minute \(count: 2, allowed: 2\)"):
        throttles.check_invoke(caller, in_flight=0)


def test_refund_gives_back_one_count() -> None:
    throttles = Throttles(Settings())
    caller = identity(firesPerMinute=1)
    minute_left(2)
    throttles.check_fire(caller)
    throttles.refund("fire", "ns")
    throttles.refund("fire", "ns")  # never below zero
    throttles.check_fire(caller)
    with pytest.raises(ApiError):
        throttles.check_fire(caller)
