"""Alarm feeds on a real standalone server: the feed action `/whisk.system/alarms/alarm` run
as wsk runs it (a blocking invoke with `lifecycleEvent`, `triggerName`, `authKey`), a rule
to a real Python action, and the alarm firing it; refusals; a restart between two alarms."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.polling import wait_until
from tests.support.rest import put, put_action, records, setup_rule
from tests.support.server import TEST_LIMITS, StandaloneServer, own_server

__all__ = ["own_server"]  # the fixture, used below

ECHO = "def main(args):\n    return args\n"


def feed(
    api: httpx.Client,
    owner: Identity,
    event: str,
    trigger: str,
    action: str = "alarms/alarm",
    **params: Any,
) -> httpx.Response:
    """What `wsk trigger create|get|update|delete --feed` sends to the feed action."""
    body = {
        "lifecycleEvent": event,
        "triggerName": f"/{owner.namespace}/{trigger}",
        "authKey": owner.auth,
        **params,
    }
    return api.post(f"/namespaces/whisk.system/actions/{action}?blocking=true", json=body)


def feed_result(r: httpx.Response) -> Any:
    return r.json()["response"]["result"]


def create_trigger(api: httpx.Client, name: str, action: str = "alarms/alarm") -> None:
    annotations = [{"key": "feed", "value": f"/whisk.system/{action}"}]
    r = put(api, "triggers", name, {"annotations": annotations})
    assert r.status_code == 200, r.text


def test_an_alarm_fires_a_rule_then_pauses_and_ends(api: httpx.Client, namespace: Identity) -> None:
    put_action(api, "echo", ECHO)
    create_trigger(api, "tick")
    began = int(time.time() * 1000)
    created = feed(api, namespace, "CREATE", "tick", cron="*/2 * * * * *", trigger_payload={"x": 1})
    assert (created.status_code, feed_result(created)) == (200, {"status": "success"})
    setup_rule(api, "tick", "tick-echo", "echo")
    wait_until(lambda: records(api, "echo"), "two echoes", until=lambda rs: len(rs) >= 2)
    echoed = records(api, "echo")[0]["response"]["result"]
    assert echoed["x"] == 1 and "__ow_headers" in echoed
    starts = sorted(r["start"] for r in records(api, "tick"))
    due_so_far = (starts[-1] - began) // 2_000 + 1  # due times from creation to the last fire
    assert len(starts) <= due_so_far, starts

    read = feed_result(feed(api, namespace, "READ", "tick"))
    assert read["config"] == {
        "name": "tick",
        "namespace": namespace.namespace,
        "payload": {"x": 1},
        "startDate": None,
        "stopDate": None,
        "cron": "*/2 * * * * *",
        "timezone": None,
    }
    assert read["status"]["active"] is True

    assert feed_result(feed(api, namespace, "PAUSE", "tick")) == {"status": "success"}
    time.sleep(1.5)  # a fire already claimed may still land
    paused_at = len(records(api, "tick"))
    time.sleep(4.5)
    assert len(records(api, "tick")) == paused_at
    assert feed_result(feed(api, namespace, "READ", "tick"))["status"]["active"] is False
    assert feed_result(feed(api, namespace, "UNPAUSE", "tick")) == {"status": "success"}
    wait_until(
        lambda: records(api, "tick"),
        "a fire after the unpause",
        timeout=10,
        until=lambda rs: len(rs) > paused_at,
    )

    assert feed_result(feed(api, namespace, "DELETE", "tick")) == {"status": "success"}
    time.sleep(1.5)
    ended_at = len(records(api, "tick"))
    time.sleep(4.5)
    assert len(records(api, "tick")) == ended_at
    assert feed_result(feed(api, namespace, "READ", "tick")) == {
        "error": f"there is no feed for the trigger /{namespace.namespace}/tick"
    }


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("alarms/alarm", {"cron": "nope"}, "cron pattern 'nope' is not valid"),
        ("alarms/alarm", {}, "alarms trigger feed is missing the cron parameter"),
        (
            "alarms/alarm",
            {
                "cron": "* * * * *",
                "startDate": "2031-02-01T00:00:00Z",
                "stopDate": "2031-01-01T00:00:00Z",
            },
            "stopDate parameter '2031-01-01T00:00:00Z' must be greater than the startDate "
            "parameter '2031-02-01T00:00:00Z'",
        ),
        ("alarms/once", {}, "alarms once trigger feed is missing the date parameter"),
        (
            "alarms/interval",
            {"minutes": 0},
            "interval trigger feed is missing the minutes parameter",
        ),
        (
            "alarms/interval",
            {"minutes": -1},
            "the minutes parameter must be an integer greater than zero",
        ),
    ],
)
def test_refusals_come_back_as_the_feed_actions_error(
    api: httpx.Client, namespace: Identity, action: str, params: dict[str, Any], message: str
) -> None:
    create_trigger(api, "t", action)
    r = feed(api, namespace, "CREATE", "t", action, **params)
    assert r.status_code == 502, r.text
    assert feed_result(r) == {"error": message}
    assert feed_result(feed(api, namespace, "READ", "t", action))["error"].startswith(
        "there is no feed"
    )


def test_only_the_triggers_owner_with_an_existing_trigger(
    api: httpx.Client, namespace: Identity, server: StandaloneServer
) -> None:
    missing = feed(api, namespace, "CREATE", "nothere", cron="* * * * *")
    assert feed_result(missing) == {"error": "Trigger authentication request failed."}
    create_trigger(api, "mine")
    other = server.create_namespace(f"{namespace.namespace}x", **TEST_LIMITS)
    body = {
        "lifecycleEvent": "CREATE",
        "triggerName": f"/{namespace.namespace}/mine",
        "authKey": other.auth,
        "cron": "* * * * *",
    }
    r = api.post("/namespaces/whisk.system/actions/alarms/alarm?blocking=true", json=body)
    assert feed_result(r) == {
        "error": "The supplied authentication is not authorized to access "
        f"'{namespace.namespace}/mine'."
    }
    unsupported = feed(api, namespace, "RESTART", "mine")
    assert feed_result(unsupported) == {"error": "unsupported lifecycleEvent"}


# -- a restart between two alarms -------------------------------------------------------------
PERIOD = 10  # seconds between two alarms: longer than a restart takes


def wait_for_phase(phase: float) -> None:
    """Sleep until `phase` seconds into the alarm's period (its due times are whole
    multiples of PERIOD seconds)."""
    time.sleep((phase - time.time() % PERIOD) % PERIOD)


def test_a_restart_between_two_alarms_neither_loses_nor_doubles_one(
    own_server: StandaloneServer,
) -> None:
    """Stopped after one alarm, started again before the next (or, on a slow machine, after
    it: that one is then fired late, once, as the restarted server catches up)."""
    owner = own_server.create_namespace("alarmed", **TEST_LIMITS)
    uuid, _, key = owner.auth.partition(":")
    with httpx.Client(base_url=f"{own_server.url}/api/v1", auth=(uuid, key), timeout=90) as api:
        put_action(api, "echo", ECHO)
        create_trigger(api, "tick")
        setup_rule(api, "tick", "tick-echo", "echo")
        wait_for_phase(PERIOD / 2)  # midway between two due times: none is on the edge
        began = time.time()
        r = feed(api, owner, "CREATE", "tick", cron=f"*/{PERIOD} * * * * *")
        assert feed_result(r) == {"status": "success"}, r.text
        wait_until(
            lambda: records(api, "tick"),
            "the first alarm",
            timeout=PERIOD + 5,
            until=lambda rs: len(rs) == 1,
        )
    stopped = time.time()
    own_server.stop()
    own_server.start()
    restarted = time.time()
    with httpx.Client(base_url=f"{own_server.url}/api/v1", auth=(uuid, key), timeout=90) as api:
        wait_until(
            lambda: records(api, "tick"),
            "three alarms, the restart between",
            timeout=3 * PERIOD,
            until=lambda rs: len(rs) >= 3,
        )
        wait_for_phase(PERIOD / 2)
        assert feed_result(feed(api, owner, "DELETE", "tick")) == {"status": "success"}
        ended = time.time()
        due = [t for t in range(int(began) + 1, int(ended) + 1) if t % PERIOD == 0]
        wait_until(
            lambda: records(api, "echo"),
            f"an echo of each of the {len(due)} due times",
            until=lambda rs: len(rs) >= len(due),
        )
        time.sleep(1.5)
        fired = sorted(r["start"] / 1000 for r in records(api, "tick"))
        assert len(fired) == len(due), (fired, due, stopped, restarted)
        for f, d in zip(fired, due, strict=True):
            late = restarted - d + 3 if stopped < d <= restarted else 3
            assert 0 <= f - d < late, (fired, due, stopped, restarted)
        assert len(records(api, "echo")) == len(due)


def test_a_feed_changed_through_the_server_is_run_without_waiting_for_a_look(
    tmp_path: Path,
) -> None:
    """The feed services list the feed documents every PYWHISK_FEED_TICK seconds (10 by
    default, here a minute) to learn of feeds changed through other controllers; one
    created or unpaused through this server fires at its next due time all the same."""
    server = StandaloneServer(tmp_path / "server", env={"PYWHISK_FEED_TICK": "60"})
    server.start()
    try:
        owner = server.create_namespace("alarmed", **TEST_LIMITS)
        uuid, _, key = owner.auth.partition(":")
        with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=90) as api:
            put_action(api, "echo", ECHO)
            create_trigger(api, "tick")
            setup_rule(api, "tick", "tick-echo", "echo")
            r = feed(api, owner, "CREATE", "tick", cron="*/2 * * * * *")
            assert feed_result(r) == {"status": "success"}, r.text
            wait_until(lambda: records(api, "tick"), "the first alarm", timeout=6)
            assert feed_result(feed(api, owner, "PAUSE", "tick")) == {"status": "success"}
            time.sleep(1.5)  # a fire already claimed may still land
            paused_at = len(records(api, "tick"))
            assert feed_result(feed(api, owner, "UNPAUSE", "tick")) == {"status": "success"}
            wait_until(
                lambda: records(api, "tick"),
                "a fire after the unpause",
                timeout=6,
                until=lambda rs: len(rs) > paused_at,
            )
            assert feed_result(feed(api, owner, "DELETE", "tick")) == {"status": "success"}
    finally:
        server.stop()


def test_two_servers_on_one_store_fire_each_due_time_once(tmp_path: Path) -> None:
    """Two standalone servers sharing one SQLite store both run the alarm scheduler (as N
    controllers on one CouchDB do): each due time is fired by one of them. (Their ticks
    rarely meet; the race of two claims at one moment is tested with the scheduler itself,
    tests/integration/test_alarm_scheduler.py.)"""
    first = StandaloneServer(tmp_path / "first")
    first.start()
    shared = f"sqlite:///{first.data_dir / 'pywhisk.db'}"
    second = StandaloneServer(tmp_path / "second", env={"PYWHISK_STORE_URL": shared})
    second.start()
    try:
        owner = first.create_namespace("alarmed", **TEST_LIMITS)
        uuid, _, key = owner.auth.partition(":")
        with httpx.Client(base_url=f"{first.url}/api/v1", auth=(uuid, key), timeout=90) as api:
            put_action(api, "echo", ECHO)
            create_trigger(api, "tick")
            setup_rule(api, "tick", "tick-echo", "echo")
            period = 2
            time.sleep((1.0 - time.time() % period) % period)  # midway between due times
            began = time.time()
            r = feed(api, owner, "CREATE", "tick", cron=f"*/{period} * * * * *")
            assert feed_result(r) == {"status": "success"}, r.text
            time.sleep(5 * period)
            time.sleep((1.0 - time.time() % period) % period)
            assert feed_result(feed(api, owner, "DELETE", "tick")) == {"status": "success"}
            ended = time.time()
            time.sleep(1.5)
            due = [t for t in range(int(began) + 1, int(ended) + 1) if t % period == 0]
            fired = sorted(r["start"] / 1000 for r in records(api, "tick"))
            assert len(fired) == len(due), (fired, due)
            assert all(0 <= f - d < period for f, d in zip(fired, due, strict=True)), (fired, due)
    finally:
        second.stop()
        first.stop()


def test_the_packages_list_their_feeds(api: httpx.Client) -> None:
    alarms = api.get("/namespaces/whisk.system/packages/alarms").json()
    assert alarms["publish"] is True
    assert alarms["parameters"] == [{"key": "trigger_payload", "value": ""}]
    assert sorted(f["name"] for f in alarms["feeds"]) == ["alarm", "interval", "once"]
    assert alarms["actions"] == []
    once = api.get("/namespaces/whisk.system/actions/alarms/once").json()
    assert {"key": "fireOnce", "value": True} in once["parameters"]
    assert {"key": "feed", "value": True} in once["annotations"]
    couchdb = api.get("/namespaces/whisk.system/packages/couchdb").json()
    assert [f["name"] for f in couchdb["feeds"]] == ["changes"]
