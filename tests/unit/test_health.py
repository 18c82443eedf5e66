"""The invoker health FSM (OW InvokerSupervision), driven by hand: no queue, no clock."""

from __future__ import annotations

from pywhisk.common.messages import PingMessage
from pywhisk.controller.core.health import InvokerHealth, Result, Status


def test_starts_unhealthy_until_the_first_ping() -> None:
    h = InvokerHealth()
    assert h.status is Status.UNHEALTHY and not h.usable
    h.tick(100.0)  # never pinged: nothing to time out
    assert h.status is Status.UNHEALTHY
    h.ping(100.0, 2048)
    assert h.status is Status.HEALTHY and h.usable
    assert h.user_memory == 2048


def test_missing_pings_for_more_than_10s_is_offline_and_a_ping_brings_it_back() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    h.tick(10.0)
    assert h.status is Status.HEALTHY
    h.tick(10.5)
    assert h.status is Status.OFFLINE and not h.usable
    h.ping(30.0, 1024)
    assert h.status is Status.HEALTHY


def test_more_than_3_system_errors_of_the_last_10_is_unhealthy() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    for _ in range(3):
        h.result(Result.SYSTEM_ERROR, 1.0)
    assert h.status is Status.HEALTHY
    h.result(Result.SYSTEM_ERROR, 1.0)
    assert h.status is Status.UNHEALTHY and not h.usable
    # Successes push the errors out of the window of 10.
    for _ in range(6):
        h.result(Result.SUCCESS, 2.0)
    assert h.status is Status.UNHEALTHY
    h.result(Result.SUCCESS, 2.0)
    assert h.status is Status.HEALTHY


def test_more_than_3_timeouts_is_unresponsive() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    for _ in range(4):
        h.result(Result.TIMEOUT, 1.0)
    assert h.status is Status.UNRESPONSIVE and not h.usable


def test_system_errors_win_over_timeouts() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    for _ in range(4):
        h.result(Result.TIMEOUT, 1.0)
        h.result(Result.SYSTEM_ERROR, 1.0)
    assert h.status is Status.UNHEALTHY


def test_pings_while_unhealthy_probe_it_back_after_a_while() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    for _ in range(4):
        h.result(Result.SYSTEM_ERROR, 1.0)
    h.ping(5.0, 1024)
    assert h.status is Status.UNHEALTHY
    h.ping(11.0, 1024)  # 10 s in Unhealthy with pings: results forgotten
    assert h.status is Status.HEALTHY
    assert not h.results


def test_late_completions_do_not_revive_an_offline_invoker() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024)
    h.tick(11.0)
    h.result(Result.SUCCESS, 11.5)
    assert h.status is Status.OFFLINE


def test_a_disabled_invoker_is_not_usable() -> None:
    h = InvokerHealth()
    h.ping(0.0, 1024, enabled=False)
    assert h.status is Status.OFFLINE
    h.ping(1.0, 1024, enabled=True)
    assert h.status is Status.HEALTHY


def test_ping_message_round_trips() -> None:
    ping = PingMessage(invoker=3, user_memory=2048, enabled=True, sent=12)
    assert PingMessage.from_bytes(ping.to_bytes()) == ping
    assert PingMessage.from_bytes(b'{"invoker":1,"user_memory":512}').enabled
