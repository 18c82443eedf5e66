"""The ShardingBalancer over the in-process queue: pings make invokers usable, activations
go home and step on when full, releases (completion or forced ack) free the slots and feed
health, and no usable invoker is NoInvokers."""

from __future__ import annotations

import pytest

from pywhisk.common.discovery.static import StaticDiscovery
from pywhisk.common.messages import ActivationMessage, PingMessage, User, invoker_topic
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.controller.core.balancer import NoInvokers, ShardingBalancer
from pywhisk.controller.core.health import Result, Status
from pywhisk.controller.core.sharding import generate_hash, probe_order
from tests.support.clocks import ManualClock
from tests.support.polling import wait_until_async


def message(n: int, action: str = "guest/hello") -> ActivationMessage:
    return ActivationMessage(
        transid="t",
        activation_id=f"a{n}",
        action=action,
        revision="1",
        version="0.0.1",
        user=User(namespace="guest", subject="guest", auth="u:k"),
        controller=0,
        blocking=False,
        content={},
        received=0,
    )


def balancer(**kwargs: object) -> tuple[ShardingBalancer, ManualClock]:
    clock = ManualClock()
    return ShardingBalancer(MemoryQueue(), 0, clock=clock, **kwargs), clock  # type: ignore[arg-type]


def ping(invoker: int, memory: int = 512, enabled: bool = True) -> PingMessage:
    return PingMessage(invoker=invoker, user_memory=memory, enabled=enabled)


async def test_no_pings_no_invokers() -> None:
    lb, _ = balancer()
    with pytest.raises(NoInvokers):
        await lb.publish(message(0), 256)


async def test_home_invoker_is_sticky_then_the_next_probe_takes_the_overflow() -> None:
    lb, _ = balancer()
    for i in range(3):
        lb.on_ping(ping(i))
    order = probe_order(generate_hash("guest", "guest/hello"), 3)
    assert [await lb.publish(message(n), 256) for n in range(2)] == [order[0]] * 2
    assert await lb.publish(message(2), 256) == order[1]
    lb.release("a0", Result.SUCCESS)
    assert await lb.publish(message(3), 256) == order[0]
    assert {s.id: s.free for s in lb.states()}[order[0]] == 0


async def test_activation_goes_on_the_invoker_topic() -> None:
    lb, _ = balancer()
    consumer = await lb.queue.consumer(invoker_topic(0), "invoker0")
    lb.on_ping(ping(0))
    await lb.publish(message(7), 128)
    async for payload in consumer:
        assert ActivationMessage.from_bytes(payload).activation_id == "a7"
        break


async def test_capacity_is_divided_across_controllers() -> None:
    lb, _ = balancer(controllers=2)
    lb.on_ping(ping(0, memory=512))
    assert lb.states()[0].free == 256
    await lb.publish(message(0), 256)
    _invoker, forced = lb.choose(message(1), 256)
    assert forced  # full: forced onto the only usable one


async def test_offline_invoker_gets_no_new_work() -> None:
    lb, clock = balancer()
    lb.on_ping(ping(0))
    lb.on_ping(ping(1))
    clock.now = 11.0
    lb.on_ping(ping(1))
    lb.tick()
    assert [s.status for s in lb.states()] == [Status.OFFLINE, Status.HEALTHY]
    for n in range(5):
        assert await lb.publish(message(n, f"guest/a{n}"), 128) == 1


async def test_system_errors_make_an_invoker_unusable() -> None:
    lb, _ = balancer()
    lb.on_ping(ping(0, memory=4096))
    lb.on_ping(ping(1, memory=4096))
    for n in range(4):
        lb._placed[f"x{n}"] = (0, 128, False)
        lb.release(f"x{n}", Result.SYSTEM_ERROR)
    assert not lb.usable(0)
    for n in range(5):
        assert await lb.publish(message(n, f"guest/a{n}"), 128) == 1


async def test_discovery_restricts_the_usable_set() -> None:
    lb, _ = balancer(discovery=StaticDiscovery("static://?invokers=1"))
    await lb.start()
    try:
        lb.on_ping(ping(0))
        lb.on_ping(ping(1))
        assert (lb.usable(0), lb.usable(1)) == (False, True)
    finally:
        await lb.stop()


async def test_pings_arrive_over_the_health_topic_and_old_ones_are_ignored() -> None:
    from pywhisk.invoker.health import Pinger

    lb, _ = balancer()
    await lb.start()
    pinger = Pinger(lb.queue, 2, 1024, interval=0.01)
    try:
        await lb.queue.send("health", PingMessage(invoker=5, user_memory=1, sent=1).to_bytes())
        await pinger.start()
        await wait_until_async(
            lambda: lb.usable(2), "invoker 2 usable from its pings", timeout=5, interval=0.01
        )
        assert 5 not in lb.health
    finally:
        await pinger.stop()
        await lb.stop()


async def test_tracker_release_frees_slots_and_counts_timeouts() -> None:
    from pywhisk.controller.core.tracker import ActivationTracker

    lb, _ = balancer()
    lb.on_ping(ping(0, memory=256))
    tracker = ActivationTracker(lb.queue, 0, on_release=lb.release)
    tracker.register("a0", "guest", False, 1000)
    await lb.publish(message(0), 256)
    assert lb.states()[0].free == 0
    tracker._release("a0", None, Result.TIMEOUT)  # what the forced-ack timer does
    assert lb.states()[0].free == 256
    assert list(lb.health[0].results) == [Result.TIMEOUT]
    await tracker.stop()


async def test_blackbox_actions_go_to_the_last_invoker() -> None:
    lb, _ = balancer()
    for i in range(3):
        lb.on_ping(ping(i, memory=4096))
    assert {await lb.publish(message(n, f"guest/b{n}"), 128, blackbox=True) for n in range(8)} == {
        2
    }
    assert {await lb.publish(message(n + 8, f"guest/c{n}"), 128) for n in range(16)} == {0, 1, 2}


async def test_a_gone_invokers_activation_moves_with_its_memory_and_kind() -> None:
    lb, clock = balancer()
    for i in range(3):
        lb.on_ping(ping(i, memory=1024))
    code = [message(n, f"guest/m{n}") for n in range(6)]
    placed = {m.activation_id: await lb.publish(m, 256) for m in code}
    box = message(99, "guest/box")
    assert await lb.publish(box, 256, blackbox=True) == 2
    gone = placed["a0"]
    clock.now = 10.5  # every invoker but `gone` pings on
    for i in range(3):
        if i != gone:
            lb.on_ping(ping(i, memory=1024))
    lb.tick()
    before = {s.id: s.free for s in lb.states()}
    moved = lb.move(code[0])
    assert moved != gone
    after = {s.id: s.free for s in lb.states()}
    assert after[gone] == before[gone] + 256 and after[moved] == before[moved] - 256
    if gone == 2:  # a blackbox action goes to the blackbox invoker (the last) or nowhere
        with pytest.raises(NoInvokers):
            lb.move(box)
    else:
        assert lb.move(box) == 2
    lb.release("a0", Result.SUCCESS)  # its new invoker's slots are freed at the end
    assert {s.id: s.free for s in lb.states()}[moved] == before[moved]
    with pytest.raises(NoInvokers):
        lb.move(message(1234))  # never placed (or ended): nothing to move
