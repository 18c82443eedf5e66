"""Alarm configurations: OpenWhisk's refusals word for word, and when each kind is due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pywhisk.controller.core.feeds.alarm_spec import (
    FeedRefused,
    create_config,
    describe,
    latest_due,
    next_due,
    to_ms,
    update_config,
)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


NOW = ms("2030-01-01T00:00:00")


def refused(params: dict[str, Any], now: int = NOW) -> str:
    with pytest.raises(FeedRefused) as caught:
        create_config(params, now)
    assert caught.value.status == 400
    return caught.value.message


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "alarms trigger feed is missing the cron parameter"),
        ({"cron": "* * *"}, "cron pattern '* * *' is not valid"),
        ({"cron": "61 * * * *"}, "cron pattern '61 * * * *' is not valid"),
        ({"cron": "every minute please"}, "cron pattern 'every minute please' is not valid"),
        ({"cron": "* * * * * * *"}, "cron pattern '* * * * * * *' is not valid"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "Invalid timezone."),
        ({"isInterval": True}, "interval trigger feed is missing the minutes parameter"),
        ({"isInterval": True, "minutes": "1.5"}, "the minutes parameter must be an integer"),
        (
            {"isInterval": True, "minutes": -2},
            "the minutes parameter must be an integer greater than zero",
        ),
        ({"fireOnce": True}, "alarms once trigger feed is missing the date parameter"),
        (
            {"fireOnce": True, "date": "2030-02-01T00:00:00Z", "deleteAfterFire": "maybe"},
            "deleteAfterFire parameter must be one of [false, true, rules].",
        ),
        (
            {"fireOnce": True, "date": "yesterday"},
            "date parameter 'yesterday' is not a valid Date",
        ),
        (
            {"fireOnce": True, "date": "2029-12-31T00:00:00Z"},
            "date parameter '2029-12-31T00:00:00Z' must be in the future",
        ),
        (
            {
                "cron": "* * * * *",
                "startDate": "2030-03-01T00:00:00Z",
                "stopDate": "2030-02-01T00:00:00Z",
            },
            "stopDate parameter '2030-02-01T00:00:00Z' must be greater than the startDate "
            "parameter '2030-03-01T00:00:00Z'",
        ),
        (
            {"cron": "* * * * *", "maxTriggers": 3, "stopDate": "2030-02-01T00:00:00Z"},
            "maxTriggers is not allowed when the stopDate parameter is specified",
        ),
        (
            {"isInterval": True, "minutes": 1, "maxTriggers": 3, "stopDate": "2030-02-01Z"},
            "maxTriggers is not supported for the interval trigger feed",
        ),
        (
            {"cron": "0 0 1 6 *", "stopDate": "2030-02-01T00:00:00Z"},
            "the first scheduled trigger fire is not until after the stop date",
        ),
    ],
)
def test_refusals_use_the_alarms_package_messages(params: dict[str, Any], message: str) -> None:
    assert refused(params) == message


def test_dates_are_iso_or_epoch_milliseconds() -> None:
    assert to_ms("2030-01-01T00:00:00Z") == NOW
    assert to_ms("2030-01-01T01:00:00+01:00") == NOW
    assert to_ms("2030-01-01T00:00:00") == NOW  # no offset: UTC
    assert to_ms(NOW) == NOW
    assert to_ms(True) is None and to_ms("soon") is None and to_ms([1]) is None


def test_payload_strings_are_wrapped_objects_kept() -> None:
    assert create_config({"cron": "* * * * *", "trigger_payload": "hi"}, NOW)["payload"] == {
        "payload": "hi"
    }
    assert create_config({"cron": "* * * * *", "trigger_payload": {"x": 1}}, NOW)["payload"] == {
        "x": 1
    }
    assert create_config({"cron": "* * * * *", "trigger_payload": ""}, NOW)["payload"] == {}


# -- due times --------------------------------------------------------------------------------
def test_cron_five_fields_minutes_six_fields_seconds_first() -> None:
    every_five = create_config({"cron": "*/5 * * * *"}, NOW)
    assert next_due(every_five, NOW) == NOW + 5 * 60_000
    every_three_seconds = create_config({"cron": "*/3 * * * * *"}, NOW)
    assert next_due(every_three_seconds, NOW) == NOW + 3_000
    assert next_due(every_three_seconds, NOW + 1) == NOW + 3_000


def test_cron_in_a_timezone() -> None:
    nine_in_berlin = create_config({"cron": "0 9 * * *", "timezone": "Europe/Berlin"}, NOW)
    assert next_due(nine_in_berlin, NOW) == ms("2030-01-01T08:00:00")


def test_cron_respects_start_and_stop_inclusive() -> None:
    config = create_config(
        {
            "cron": "0 * * * *",
            "startDate": "2030-01-01T03:00:00Z",
            "stopDate": "2030-01-01T05:00:00Z",
        },
        NOW,
    )
    assert next_due(config, NOW) == ms("2030-01-01T03:00:00")
    assert next_due(config, ms("2030-01-01T04:00:00")) == ms("2030-01-01T05:00:00")
    assert next_due(config, ms("2030-01-01T05:00:00")) is None
    assert latest_due(config, NOW, ms("2030-01-01T02:59:59")) is None
    assert latest_due(config, NOW, ms("2030-01-01T09:30:00")) == ms("2030-01-01T05:00:00")


def test_missed_due_times_collapse_into_the_latest() -> None:
    """A controller down from 00:00 to 00:07:30 fires the 00:07 alarm once, not seven."""
    config = create_config({"cron": "* * * * *"}, NOW)
    assert latest_due(config, NOW, NOW + 7 * 60_000 + 30_000) == NOW + 7 * 60_000
    assert latest_due(config, NOW + 7 * 60_000, NOW + 7 * 60_000 + 30_000) is None
    assert latest_due(config, NOW, NOW + 59_999) is None


def test_interval_starts_thirty_seconds_after_creation_then_every_n_minutes() -> None:
    config = create_config({"isInterval": True, "minutes": "2"}, NOW)
    start = NOW + 30_000
    assert config["startDate"] == start and config["minutes"] == 2
    assert next_due(config, NOW) == start
    assert next_due(config, start) == start + 120_000
    assert latest_due(config, NOW, start - 1) is None
    assert latest_due(config, NOW, start + 250_000) == start + 240_000
    assert latest_due(config, start + 240_000, start + 250_000) is None


def test_interval_stops_at_stop_date() -> None:
    config = create_config(
        {"isInterval": True, "minutes": 1, "startDate": NOW + 60_000, "stopDate": NOW + 150_000},
        NOW,
    )
    assert next_due(config, NOW + 60_000) == NOW + 120_000
    assert next_due(config, NOW + 120_000) is None
    assert latest_due(config, NOW + 120_000, NOW + 999_999) is None


def test_once_is_due_once() -> None:
    config = create_config(
        {"fireOnce": "true", "date": "2030-01-01T00:10:00Z", "deleteAfterFire": "Rules"}, NOW
    )
    assert config["deleteAfterFire"] == "rules"
    when = ms("2030-01-01T00:10:00")
    assert latest_due(config, NOW, when - 1) is None
    assert latest_due(config, NOW, when + 5_000) == when
    assert latest_due(config, when, when + 5_000) is None
    assert next_due(config, when) is None


# -- update and read --------------------------------------------------------------------------
def test_update_changes_only_what_was_given_and_checks_dates() -> None:
    old = create_config({"cron": "* * * * *", "stopDate": "2030-06-01T00:00:00Z"}, NOW)
    new = update_config(old, {"cron": "*/2 * * * *"}, NOW)
    assert new["cron"] == "*/2 * * * *" and new["stopDate"] == old["stopDate"]
    with pytest.raises(FeedRefused, match="no updatable parameters were specified"):
        update_config(old, {"unrelated": 1}, NOW)
    with pytest.raises(FeedRefused) as caught:
        update_config(old, {"startDate": "2030-07-01T00:00:00Z"}, NOW)
    assert caught.value.message == (
        "startDate parameter '2030-07-01T00:00:00Z' must be less than the stopDate "
        "parameter '2030-06-01T00:00:00Z'"
    )
    with pytest.raises(FeedRefused, match="cron pattern 'nope' is not valid"):
        update_config(old, {"cron": "nope"}, NOW)


def test_describe_in_openwhisk_field_names() -> None:
    cron = create_config({"cron": "* * * * *", "trigger_payload": {"x": 1}, "maxTriggers": 2}, NOW)
    assert describe(cron) == {
        "payload": {"x": 1},
        "startDate": None,
        "stopDate": None,
        "cron": "* * * * *",
        "timezone": None,
        "maxTriggers": 2,
    }
    once = create_config({"fireOnce": True, "date": NOW + 1000}, NOW)
    assert describe(once) == {"payload": {}, "date": NOW + 1000, "deleteAfterFire": "false"}
