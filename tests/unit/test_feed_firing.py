"""Firing a feed's trigger: what is retried, what switches the feed off (as OpenWhisk's
providers decide), and the changes feed's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from pywhisk.common.entities import Identity
from pywhisk.common.names import QualifiedName
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.feeds.alarm_spec import FeedRefused
from pywhisk.controller.core.feeds.changes_spec import (
    create_config,
    database_url,
    describe,
    update_config,
)
from pywhisk.controller.core.feeds.firing import Refusal, TriggerFirer
from pywhisk.controller.core.feeds.registry import FeedRecord

OWNER = Identity(namespace="guest", subject="guest", uuid="u", key="k")
RECORD = FeedRecord("alarms", "guest", "tick", {"kind": "cron", "cron": "* * * * *"})


class Answers:
    """A fire_trigger that answers from a script: an exception to raise, or an id."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, QualifiedName, dict[str, Any]]] = []

    async def __call__(
        self, owner: Identity, fqn: QualifiedName, payload: dict[str, Any], transid: str
    ) -> str | None:
        self.calls.append((owner.namespace, fqn, payload))
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)


def firer(answers: Answers, owner: Identity | None = OWNER) -> tuple[TriggerFirer, list[float]]:
    slept: list[float] = []

    async def lookup(namespace: str) -> Identity | None:
        return owner

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return TriggerFirer(answers, lookup, sleep=sleep), slept


async def test_fired_as_the_owner_with_the_payload() -> None:
    answers = Answers("a" * 32)
    fire, slept = firer(answers)
    assert await fire(RECORD, {"x": 1}) is None
    assert answers.calls == [("guest", QualifiedName("guest", "tick"), {"x": 1})]
    assert slept == []


async def test_throttled_or_failing_fires_are_retried_then_given_up() -> None:
    too_many = ApiError(429, "Too many requests in the last minute (count: 61, allowed: 60).")
    answers = Answers(too_many, ApiError(503), RuntimeError("store away"), "b" * 32)
    fire, slept = firer(answers)
    assert await fire(RECORD, {}) is None
    assert slept == [1.0, 3.0, 9.0] and len(answers.calls) == 4
    never = Answers(*[ApiError(500)] * 4)
    fire, _ = firer(never)
    assert await fire(RECORD, {}) is None  # given up for this fire; the feed stays on
    assert len(never.calls) == 4


@pytest.mark.parametrize("status", [400, 403, 404, 413])
async def test_a_refusal_for_good_switches_the_feed_off(status: int) -> None:
    fire, slept = firer(Answers(ApiError(status, "no")))
    assert await fire(RECORD, {}) == Refusal(status, "no")
    assert slept == []


async def test_a_deleted_namespace_switches_the_feed_off() -> None:
    answers = Answers()
    fire, _ = firer(answers, owner=None)
    assert await fire(RECORD, {}) == Refusal(404, "the namespace guest no longer exists")
    assert answers.calls == []


# -- changes feed parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"host": "db"}, "couchdb trigger feed: missing dbname parameter"),
        ({"dbname": "photos"}, "couchdb trigger feed: missing host parameter"),
        (
            {"dbname": "p", "host": "db", "query_params": {"a": 1}},
            "The query_params parameter is only allowed if the filter parameter is defined",
        ),
        (
            {"dbname": "p", "host": "db", "filter": "d/f", "query_params": "{nope"},
            "The query_params parameter cannot be parsed. Ensure it is valid JSON.",
        ),
        (
            {"dbname": "p", "host": "db", "filter": "d/f", "query_params": "[1]"},
            "The query_params parameter is not a valid JSON Object",
        ),
        (
            {"dbname": "p", "host": "db", "username": "u"},
            "couchdb trigger feed: username and password go together",
        ),
        (
            {"dbname": "p", "host": "db", "protocol": "ftp"},
            "couchdb trigger feed: protocol must be http or https",
        ),
        (
            {"dbname": "p", "host": "db", "port": "x"},
            "couchdb trigger feed: port must be an integer",
        ),
    ],
)
def test_changes_refusals(params: dict[str, Any], message: str) -> None:
    with pytest.raises(FeedRefused) as caught:
        create_config(params)
    assert (caught.value.status, caught.value.message) == (400, message)


def test_changes_config_url_and_read() -> None:
    config = create_config(
        {
            "dbname": "my/db",
            "host": "::1",
            "port": "5984",
            "username": "u",
            "password": "secret",
            "filter": "d/f",
            "query_params": '{"status": "new"}',
            "trigger_payload": "hi",
        }
    )
    assert database_url(config) == "http://[::1]:5984/my%2Fdb"
    shown = describe(config)
    assert "password" not in shown
    assert shown["query_params"] == {"status": "new"} and shown["payload"] == {"payload": "hi"}
    assert update_config(config, {"maxTriggers": "3"})["maxTriggers"] == 3
    with pytest.raises(FeedRefused, match="no updatable parameters were specified"):
        update_config(config, {"dbname": "other"})
