"""The sharding scheme (docs/openwhisk-compatibility.md §8.3) as pure functions: no queue, no invokers."""

from __future__ import annotations

import random

import pytest

from pywhisk.controller.core.sharding import (
    Candidate,
    NoInvokers,
    Slots,
    generate_hash,
    java_hash,
    pairwise_coprime_numbers_until,
    partition,
    probe_order,
    schedule,
    shard_memory,
)


def test_java_hash_matches_java_string_hashcode() -> None:
    # Values from Java: "".hashCode()=0, "a"=97, "hello"=99162322, "guest/hello"=...
    assert java_hash("") == 0
    assert java_hash("a") == 97
    assert java_hash("hello") == 99162322
    assert java_hash("polygenelubricants") == -(2**31)  # Java's famous MIN_VALUE string
    assert java_hash("é") == 233  # UTF-16 code units, not bytes


def test_generate_hash_is_non_negative_and_stable() -> None:
    h = generate_hash("guest", "guest/hello")
    assert h == abs(java_hash("guest") ^ java_hash("guest/hello"))
    assert h >= 0
    assert generate_hash("guest", "guest/hello") == h


def test_pairwise_coprime_numbers() -> None:
    assert pairwise_coprime_numbers_until(1) == [1]
    assert pairwise_coprime_numbers_until(2) == [1]
    assert pairwise_coprime_numbers_until(10) == [1, 3, 7]
    assert pairwise_coprime_numbers_until(11) == [1, 2, 3, 5, 7]


def test_openwhisk_worked_example() -> None:
    # ShardingContainerPoolBalancer header doc: n=10, hash=13 → steps 1,3,7, step 3.
    assert probe_order(13, 10) == [3, 6, 9, 2, 5, 8, 1, 4, 7, 0]


@pytest.mark.parametrize("n", range(1, 30))
def test_probe_order_visits_every_invoker_once(n: int) -> None:
    for h in (0, 1, 13, 12345, 2**31):
        assert sorted(probe_order(h, n)) == list(range(n))


def test_shard_memory_divides_across_controllers_with_a_floor() -> None:
    assert shard_memory(2048, 1, 128) == 2048
    assert shard_memory(2048, 2, 128) == 1024
    assert shard_memory(256, 4, 128) == 128


def _invokers(n: int, capacity: int = 512, usable: bool = True) -> list[Candidate | None]:
    return [Candidate(usable, Slots.of(capacity)) for _ in range(n)]


def test_home_invoker_takes_it_while_it_has_room() -> None:
    invokers = _invokers(10)
    assert schedule(invokers, 13, 256) == (3, False)
    assert schedule(invokers, 13, 256) == (3, False)
    assert invokers[3] is not None and invokers[3].slots.free == 0
    # Home full: the next probe (home + step 3) takes it.
    assert schedule(invokers, 13, 256) == (6, False)


def test_unusable_and_unknown_invokers_are_skipped() -> None:
    invokers = _invokers(10)
    invokers[3] = Candidate(False, Slots.of(512))
    invokers[6] = None
    assert schedule(invokers, 13, 256) == (9, False)


def test_overloaded_forces_a_random_usable_invoker() -> None:
    invokers = _invokers(3, capacity=256)
    invokers[1] = Candidate(False, Slots.of(256))
    for _ in range(2):
        schedule(invokers, 0, 256)
    chosen, forced = schedule(invokers, 0, 256, random.Random(1))
    assert forced
    assert chosen in (0, 2)
    slots = invokers[chosen]
    assert slots is not None and slots.slots.free == -256


def test_no_usable_invoker_raises() -> None:
    with pytest.raises(NoInvokers):
        schedule(_invokers(3, usable=False), 7, 128)
    with pytest.raises(NoInvokers):
        schedule([], 7, 128)


def test_slots_release_and_resize() -> None:
    slots = Slots.of(512)
    assert slots.try_acquire(256)
    assert not slots.try_acquire(512)
    slots.release(256)
    assert slots.free == 512
    slots.release(256)  # a stray release never exceeds capacity
    assert slots.free == 512
    assert slots.try_acquire(256)
    slots.resize(1024)
    assert (slots.capacity, slots.free) == (1024, 768)


def test_partition_managed_and_blackbox_invokers() -> None:
    assert partition(0) == (range(0), range(0))
    assert partition(1) == (range(1), range(0, 1))
    assert partition(2) == (range(2), range(1, 2))  # the last one also takes blackbox
    assert partition(10) == (range(9), range(9, 10))
    assert partition(20) == (range(18), range(18, 20))
