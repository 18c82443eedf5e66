"""The pure scheduling rules of the container pool (docs/openwhisk-compatibility.md §8.4), on plain snapshots."""

from __future__ import annotations

from pywhisk.invoker.scheduling import (
    CREATE,
    WAIT,
    ActionKey,
    Create,
    Slot,
    Warm,
    evictions,
    find_warm,
    pick_stem,
    schedule,
    stale,
)

A1 = ActionKey("guest", "guest/a", "1")
A2 = ActionKey("guest", "guest/a", "2")
B1 = ActionKey("guest", "guest/b", "1")
A1_OTHER_NS = ActionKey("alice", "guest/a", "1")


def slot(id: str, key: ActionKey, memory: int = 256, idle: bool = True, used: float = 0.0) -> Slot:
    return Slot(id, key, memory, idle, used)


def test_empty_pool_creates() -> None:
    assert schedule(A1, 256, [], 1024) == CREATE


def test_idle_warm_container_of_same_action_and_revision_is_reused() -> None:
    slots = [slot("x", B1), slot("y", A1)]
    assert schedule(A1, 256, slots, 1024) == Warm("y")


def test_busy_container_is_not_reused() -> None:
    assert schedule(A1, 256, [slot("y", A1, idle=False)], 1024) == CREATE


def test_other_revision_is_not_reused() -> None:
    assert schedule(A2, 256, [slot("y", A1)], 1024) == CREATE


def test_other_invoking_namespace_is_not_reused() -> None:
    assert schedule(A1_OTHER_NS, 256, [slot("y", A1)], 1024) == CREATE


def test_most_recently_used_warm_container_is_preferred() -> None:
    slots = [slot("old", A1, used=1.0), slot("new", A1, used=5.0), slot("mid", A1, used=3.0)]
    assert find_warm(A1, slots) == "new"


def test_cold_create_only_within_user_memory() -> None:
    busy = [slot("1", B1, idle=False), slot("2", B1, idle=False)]
    assert schedule(A1, 256, busy, 768) == CREATE
    assert schedule(A1, 256, busy, 512) == WAIT
    assert schedule(A1, 512, busy, 768) == WAIT


def test_evicts_least_recently_used_idle_containers() -> None:
    slots = [
        slot("busy", B1, idle=False),
        slot("newer", B1, used=9.0),
        slot("oldest", B1, used=1.0),
        slot("older", B1, used=2.0),
    ]
    assert schedule(A1, 256, slots, 1024) == Create(("oldest",))
    assert schedule(A1, 512, slots, 1024) == Create(("oldest", "older"))


def test_eviction_takes_as_many_as_needed_for_bigger_actions() -> None:
    slots = [slot("a", B1, memory=128, used=1.0), slot("b", B1, memory=128, used=2.0)]
    assert evictions(512, slots, 512) == ("a", "b")
    assert evictions(512, slots, 384) is None


def test_waits_when_idle_containers_cannot_free_enough() -> None:
    slots = [slot("busy", B1, memory=512, idle=False), slot("idle", B1, memory=128)]
    assert schedule(A1, 512, slots, 768) == WAIT


def test_no_eviction_when_there_is_room() -> None:
    assert evictions(256, [slot("idle", B1)], 1024) == ()


def test_stale_revisions_of_the_same_action_are_found() -> None:
    slots = [
        slot("old-rev", A1),
        slot("old-rev-busy", A1, idle=False),
        slot("other-action", B1),
        slot("other-ns", ActionKey("alice", "guest/a", "1")),
        slot("current", A2),
    ]
    assert stale(A2, slots) == ("old-rev",)


def test_stem_must_match_kind_and_is_the_closest_in_memory() -> None:
    stems = [("p128", "python:3.11", 128), ("n256", "nodejs:20", 256), ("p256", "python:3.11", 256)]
    assert pick_stem("python:3.11", 256, stems) == "p256"
    assert pick_stem("python:3.11", 128, stems) == "p128"
    assert pick_stem("php:8.2", 256, stems) is None
    assert pick_stem("python:3.11", 512, stems) == "p256"  # resized when adopted
    assert pick_stem("python:3.11", 160, stems) == "p128"
