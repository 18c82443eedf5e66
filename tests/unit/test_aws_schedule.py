"""AWS schedule expressions as EventBridge reads them, and the alarms feed reading them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pywhisk.controller.core.feeds import alarm_spec, aws_schedule
from pywhisk.controller.core.feeds.aws_schedule import InvalidSchedule, parse


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def iso(value: int | None) -> str:
    assert value is not None
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M %a")


def upcoming(expr: str, after: str, count: int = 3) -> list[str]:
    schedule = parse(expr)
    assert isinstance(schedule, aws_schedule.Cron)
    found, at = [], ms(after)
    for _ in range(count):
        nxt = schedule.next_after(at)
        found.append(iso(nxt))
        assert nxt is not None
        at = nxt
    return found


def test_the_talks_every_two_hours() -> None:
    assert upcoming("cron(0 */2 * * ? *)", "2026-12-06T05:17:00") == [
        "2026-12-06 06:00 Sun",
        "2026-12-06 08:00 Sun",
        "2026-12-06 10:00 Sun",
    ]


def test_day_of_week_is_sun_to_sat_from_one_and_by_name() -> None:
    # 2 = MON: Mondays only; the names mean the same.
    assert upcoming("cron(15 10 ? * 2 *)", "2026-12-06T00:00", 2) == [
        "2026-12-07 10:15 Mon",
        "2026-12-14 10:15 Mon",
    ]
    assert upcoming("cron(15 10 ? * MON *)", "2026-12-06T00:00", 2) == upcoming(
        "cron(15 10 ? * 2 *)", "2026-12-06T00:00", 2
    )
    assert upcoming("cron(0 18 ? * MON-FRI *)", "2026-12-04T19:00", 2) == [
        "2026-12-07 18:00 Mon",
        "2026-12-08 18:00 Tue",
    ]
    assert upcoming("cron(0 9 ? * 1,7 *)", "2026-12-07T00:00", 2) == [
        "2026-12-12 09:00 Sat",
        "2026-12-13 09:00 Sun",
    ]


def test_last_day_nearest_weekday_and_nth_weekday() -> None:
    assert upcoming("cron(0 12 L * ? *)", "2027-01-31T13:00", 2) == [
        "2027-02-28 12:00 Sun",
        "2027-03-31 12:00 Wed",
    ]
    # 2027-05-01 is a Saturday: 1W is Monday the 3rd (never the April before).
    assert upcoming("cron(0 8 1W 5 ? 2027)", "2027-01-01T00:00", 1) == ["2027-05-03 08:00 Mon"]
    # 2027-02-14 is a Sunday: 14W is Monday the 15th; 2027-10-31 a Sunday: LW is Friday 29th.
    assert upcoming("cron(0 8 14W 2 ? 2027)", "2027-01-01T00:00", 1) == ["2027-02-15 08:00 Mon"]
    assert upcoming("cron(0 8 LW 10 ? 2027)", "2027-01-01T00:00", 1) == ["2027-10-29 08:00 Fri"]
    # 3#2: the second Tuesday; 6L: the last Friday.
    assert upcoming("cron(0 10 ? * 3#2 *)", "2026-12-01T00:00", 2) == [
        "2026-12-08 10:00 Tue",
        "2027-01-12 10:00 Tue",
    ]
    assert upcoming("cron(0 10 ? * 6L *)", "2026-12-01T00:00", 2) == [
        "2026-12-25 10:00 Fri",
        "2027-01-29 10:00 Fri",
    ]


def test_years_months_and_ranges() -> None:
    assert upcoming("cron(0/30 9-10 1 JAN,JUL ? 2027-2028)", "2026-12-06T00:00", 5) == [
        "2027-01-01 09:00 Fri",
        "2027-01-01 09:30 Fri",
        "2027-01-01 10:00 Fri",
        "2027-01-01 10:30 Fri",
        "2027-07-01 09:00 Thu",
    ]
    last = parse("cron(0 0 1 1 ? 2027)")
    assert isinstance(last, aws_schedule.Cron)
    assert last.next_after(ms("2027-01-01T00:00")) is None  # no later year given


def test_previous_time_for_catching_up() -> None:
    schedule = parse("cron(0 */2 * * ? *)")
    assert isinstance(schedule, aws_schedule.Cron)
    assert iso(schedule.at_or_before(ms("2026-12-06T05:17"))) == "2026-12-06 04:00 Sun"
    assert iso(schedule.at_or_before(ms("2026-12-06T04:00"))) == "2026-12-06 04:00 Sun"


def test_timezone_evaluates_the_fields_on_local_time() -> None:
    schedule = parse("cron(0 9 ? * MON-FRI *)")
    assert isinstance(schedule, aws_schedule.Cron)
    due = schedule.next_after(ms("2026-12-06T00:00"), ZoneInfo("Europe/London"))
    assert iso(due) == "2026-12-07 09:00 Mon"  # GMT in winter
    summer = schedule.next_after(ms("2027-07-04T00:00"), ZoneInfo("Europe/London"))
    assert iso(summer) == "2027-07-05 08:00 Mon"  # 09:00 BST


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("cron(0 */2 * * * *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(0 12 1 * MON *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(0 12 ? * ? *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(0 */2 * * ?)", "six fields"),
        ("cron(*/5 * * * *)", "six fields"),
        ("cron(60 * * * ? *)", "out of range"),
        ("cron(0 24 * * ? *)", "out of range"),
        ("cron(0 0 32 * ? *)", "out of range"),
        ("cron(0 0 ? * 8 *)", "out of range"),
        ("cron(0 0 ? * 0 *)", "out of range"),
        ("cron(0 0 * 13 ? *)", "out of range"),
        ("cron(0 0 * * ? 2200)", "out of range"),
        ("cron(0 0 ? * MON/2 *)", "no increments"),
        ("cron(0 0 ? * 2#6 *)", "1-5"),
        ("cron(0 0 ? * 2#1,3#2 *)", "D#N alone"),
        ("cron(0 0 ? * MON-FRI#2 *)", "D#N alone"),
        ("cron(0 0 5L * ? *)", "day of the month"),
        ("cron(L 0 * * ? *)", "takes no"),
        ("cron(0 0 * FOO ? *)", "not a valid month"),
        ("cron(0 10-5 * * ? *)", "backwards"),
        ("cron(0/0 * * * ? *)", "increment"),
        ("rate(1 minutes)", "singular for 1"),
        ("rate(5 minute)", "singular for 1"),
        ("rate(0 minutes)", "greater than zero"),
        ("rate(5 weeks)", "not a rate unit"),
        ("rate(five minutes)", "positive whole number"),
        ("rate(-5 minutes)", "positive whole number"),
        ("every(5 minutes)", "cron(...) or rate(...)"),
    ],
)
def test_eventbridge_refuses(expr: str, reason: str) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        parse(expr)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("expr", "minutes"),
    [("rate(1 minute)", 1), ("rate(5 minutes)", 5), ("rate(1 hour)", 60), ("rate(2 days)", 2880)],
)
def test_rates(expr: str, minutes: int) -> None:
    assert parse(expr) == aws_schedule.Rate(minutes)


def test_alarm_feed_takes_an_aws_cron_and_refuses_a_bad_one() -> None:
    now = ms("2026-12-06T05:17")
    config = alarm_spec.create_config({"cron": "cron(0 */2 * * ? *)"}, now)
    assert iso(alarm_spec.next_due(config, now)) == "2026-12-06 06:00 Sun"
    assert alarm_spec.latest_due(config, now - 4 * 3600_000, now) == ms("2026-12-06T04:00")
    with pytest.raises(alarm_spec.FeedRefused) as refused:
        alarm_spec.create_config({"cron": "cron(0 */2 * * * *)"}, now)
    assert refused.value.status == 400
    assert "cron pattern 'cron(0 */2 * * * *)' is not valid: exactly one of" in str(
        refused.value.message
    )


def test_alarm_feed_rate_counts_from_creation_or_start_date() -> None:
    now = ms("2026-12-06T05:17")
    config = alarm_spec.create_config({"cron": "rate(5 minutes)"}, now)
    assert alarm_spec.next_due(config, now) == now + 5 * 60_000
    assert alarm_spec.next_due(config, now + 5 * 60_000) == now + 10 * 60_000
    assert alarm_spec.latest_due(config, now, now + 12 * 60_000) == now + 10 * 60_000
    started = alarm_spec.create_config(
        {"cron": "rate(1 hour)", "startDate": "2026-12-07T00:00:00Z"}, now
    )
    assert iso(alarm_spec.next_due(started, now)) == "2026-12-07 00:00 Mon"
    assert iso(alarm_spec.next_due(started, ms("2026-12-07T00:00"))) == "2026-12-07 01:00 Mon"
    with pytest.raises(alarm_spec.FeedRefused):
        alarm_spec.create_config({"cron": "rate(1 minutes)"}, now)
