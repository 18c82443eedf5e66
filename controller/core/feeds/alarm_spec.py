"""Alarm configurations: validation with the alarms package's messages, and due-time maths.

Pure functions over plain dicts (what the registry stores), times in epoch milliseconds.
Three kinds, after openwhisk-package-alarms (`action/alarmWebAction.js`, `provider/lib/*Alarm.js`):
- `cron`: 5 fields, or 6 with seconds first (node-cron's form), in UTC or `timezone`;
  fires at every matching time from `startDate` (inclusive) to `stopDate` (inclusive);
  AWS schedule expressions, `cron(0 */2 * * ? *)` and `rate(5 minutes)` (aws_schedule.py),
  are read as EventBridge reads them; a rate counts from `startDate`, else from creation;
- `interval`: every `minutes`, at `startDate` + k × minutes (k ≥ 0), `startDate` defaulting
  to 30 s after creation as in OpenWhisk;
- `once`: at `date`.
Dates are epoch milliseconds or ISO 8601 strings; one without an offset is read as UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from pywhisk.controller.core.feeds import aws_schedule

Config = dict[str, Any]

DELETE_AFTER_FIRE = ("false", "true", "rules")
INTERVAL_START_DELAY_MS = 30_000  # OW: an interval without startDate starts 30 s from now


class FeedRefused(Exception):
    """A lifecycle request the feed refuses: the status and message the caller gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad(message: str) -> FeedRefused:
    return FeedRefused(400, message)


# -- dates ------------------------------------------------------------------------------------
def to_ms(value: Any) -> int | None:
    """Epoch ms from an integer or an ISO 8601 string; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def check_date(value: Any, name: str, now: int, start: Any = None) -> int:
    """`value` as ms, refused as OW's validateDate refuses it."""
    ms = to_ms(value)
    if ms is None:
        raise bad(f"{name} parameter '{value}' is not a valid Date")
    if now >= ms:
        raise bad(f"{name} parameter '{value}' must be in the future")
    start_ms = to_ms(start) if start is not None else None
    if start_ms is not None and ms <= start_ms:
        raise bad(
            f"{name} parameter '{value}' must be greater than the startDate parameter '{start}'"
        )
    return ms


# -- cron -------------------------------------------------------------------------------------
def _zone(timezone: str | None) -> Any:
    if not timezone:
        return UTC
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad("Invalid timezone.") from None


def _cron(expr: str, at_ms: int, timezone: str | None) -> croniter:
    fields = expr.split()
    base = datetime.fromtimestamp(at_ms / 1000, _zone(timezone))
    return croniter(" ".join(fields), base, second_at_beginning=len(fields) == 6)


def _aws(expr: str) -> aws_schedule.Cron | aws_schedule.Rate:
    try:
        return aws_schedule.parse(expr)
    except aws_schedule.InvalidSchedule as exc:
        raise bad(f"cron pattern '{expr}' is not valid: {exc}") from None


def _rate_start(config: Config) -> int:
    start = to_ms(config.get("startDate"))
    return start if start is not None else int(config["rateStart"])


def check_cron(expr: Any, timezone: str | None, now: int) -> None:
    _zone(timezone)  # an invalid timezone has a message of its own, as in OW
    if aws_schedule.is_aws(expr):
        schedule = _aws(expr)
        if isinstance(schedule, aws_schedule.Cron) and schedule.next_after(now) is None:
            raise bad(f"cron pattern '{expr}' is never due after now")
        return
    fields = str(expr).split()
    if not isinstance(expr, str) or len(fields) not in (5, 6):
        raise bad(f"cron pattern '{expr}' is not valid")
    try:
        _cron(expr, now, timezone).get_next(float)
    except (ValueError, KeyError, TypeError):  # croniter's errors are ValueErrors
        raise bad(f"cron pattern '{expr}' is not valid") from None


def _cron_after(config: Config, after: int) -> int:
    """The first cron time strictly after `after` (ms; cron times are whole seconds)."""
    if aws_schedule.is_aws(config["cron"]):
        schedule = _aws(config["cron"])
        if isinstance(schedule, aws_schedule.Rate):
            return schedule.next_after(after, _rate_start(config))
        due = schedule.next_after(after, _zone(config.get("timezone")))
        return due if due is not None else 2**62  # past 2199: never, in practice
    return int(_cron(config["cron"], after, config.get("timezone")).get_next(float) * 1000)


def _cron_at_or_before(config: Config, at: int) -> int:
    if aws_schedule.is_aws(config["cron"]):
        schedule = _aws(config["cron"])
        if isinstance(schedule, aws_schedule.Rate):
            found = schedule.at_or_before(at, _rate_start(config))
        else:
            found = schedule.at_or_before(at, _zone(config.get("timezone")))
        return found if found is not None else -1
    return int(_cron(config["cron"], at + 1, config.get("timezone")).get_prev(float) * 1000)


# -- due times --------------------------------------------------------------------------------
def _bounds(config: Config) -> tuple[int | None, int | None]:
    return to_ms(config.get("startDate")), to_ms(config.get("stopDate"))


def next_due(config: Config, after: int) -> int | None:
    """The first time this alarm is due strictly after `after`; None if never again."""
    start, stop = _bounds(config)
    kind = config["kind"]
    if kind == "once":
        date = to_ms(config["date"])
        return date if date is not None and date > after else None
    if kind == "interval":
        period = int(config["minutes"]) * 60_000
        assert start is not None
        due = start if after < start else start + ((after - start) // period + 1) * period
    else:
        due = _cron_after(config, max(after, start - 1) if start is not None else after)
    return None if stop is not None and due > stop else due


def latest_due(config: Config, after: int, now: int) -> int | None:
    """The latest due time in (after, now]: the one to fire now. Several due times missed
    (a controller down, a slow tick) collapse into this one."""
    start, stop = _bounds(config)
    until = min(now, stop) if stop is not None else now
    kind = config["kind"]
    if kind == "once":
        date = to_ms(config["date"])
        due: int | None = date if date is not None and date <= now else None
    elif kind == "interval":
        period = int(config["minutes"]) * 60_000
        assert start is not None
        due = start + ((until - start) // period) * period if until >= start else None
    else:
        due = _cron_at_or_before(config, until)
        if start is not None and due < start:
            due = None
    return due if due is not None and due > after else None


# -- create and update ------------------------------------------------------------------------
def payload_of(value: Any) -> dict[str, Any]:
    """`trigger_payload` as the trigger's event: objects as they are, anything else wrapped
    as `{"payload": value}` (OW wraps strings so), nothing as `{}`."""
    if value is None or value == "":
        return {}
    return value if isinstance(value, dict) else {"payload": value}


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad("the minutes parameter must be an integer")
    try:
        minutes = int(value)
    except ValueError:
        raise bad("the minutes parameter must be an integer") from None
    if minutes <= 0:
        raise bad("the minutes parameter must be an integer greater than zero")
    return minutes


def _delete_after_fire(value: Any) -> str:
    text = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if text not in DELETE_AFTER_FIRE:
        raise bad("deleteAfterFire parameter must be one of [false, true, rules].")
    return text


def max_triggers_of(value: Any) -> int:
    if value in (None, ""):
        return -1
    if isinstance(value, bool):
        raise bad("the maxTriggers parameter must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad("the maxTriggers parameter must be an integer") from None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def create_config(params: dict[str, Any], now: int) -> Config:
    """A new alarm from the feed's parameters, or FeedRefused with OW's message."""
    config: Config = {"payload": payload_of(params.get("trigger_payload"))}
    if _truthy(params.get("fireOnce")):
        if not params.get("date"):
            raise bad("alarms once trigger feed is missing the date parameter")
        check_date(params["date"], "date", now)
        config.update(kind="once", date=params["date"], deleteAfterFire="false")
        if params.get("deleteAfterFire"):
            config["deleteAfterFire"] = _delete_after_fire(params["deleteAfterFire"])
        return config
    interval = _truthy(params.get("isInterval"))
    if interval:
        if not params.get("minutes"):
            raise bad("interval trigger feed is missing the minutes parameter")
        config.update(kind="interval", minutes=_minutes(params["minutes"]))
    else:
        if not params.get("cron"):
            raise bad("alarms trigger feed is missing the cron parameter")
        check_cron(params["cron"], params.get("timezone"), now)
        config.update(kind="cron", cron=params["cron"])
        if aws_schedule.is_aws(params["cron"]):
            config["rateStart"] = now  # a rate(...) counts from here unless startDate says
        if params.get("timezone"):
            config["timezone"] = params["timezone"]
        if params.get("strict") is not None:
            config["strict"] = params["strict"]
    if params.get("startDate"):
        check_date(params["startDate"], "startDate", now)
        config["startDate"] = params["startDate"]
    elif interval:
        config["startDate"] = now + INTERVAL_START_DELAY_MS
    if params.get("maxTriggers") and params.get("stopDate"):
        if interval:
            raise bad("maxTriggers is not supported for the interval trigger feed")
        raise bad("maxTriggers is not allowed when the stopDate parameter is specified")
    if params.get("stopDate"):
        check_date(params["stopDate"], "stopDate", now, config.get("startDate"))
        config["stopDate"] = params["stopDate"]
        if not interval and next_due(config, now) is None:
            raise bad("the first scheduled trigger fire is not until after the stop date")
    config["maxTriggers"] = max_triggers_of(params.get("maxTriggers"))
    return config


def update_config(old: Config, params: dict[str, Any], now: int) -> Config:
    """`old` with the updatable parameters given replaced (OW's UPDATE), or FeedRefused."""
    new = dict(old)
    if params.get("trigger_payload"):
        new["payload"] = payload_of(params["trigger_payload"])
    if old["kind"] == "once":
        if params.get("date"):
            check_date(params["date"], "date", now)
            new["date"] = params["date"]
        if params.get("deleteAfterFire"):
            new["deleteAfterFire"] = _delete_after_fire(params["deleteAfterFire"])
    else:
        if old["kind"] == "interval":
            if params.get("minutes"):
                new["minutes"] = _minutes(params["minutes"])
        else:
            if params.get("cron") or params.get("timezone"):
                cron = params.get("cron") or old["cron"]
                timezone = params.get("timezone") or old.get("timezone")
                check_cron(cron, timezone, now)
                new["cron"] = cron
                new.setdefault("rateStart", now)
                if timezone:
                    new["timezone"] = timezone
            if "strict" in params:
                new["strict"] = params["strict"]
        if params.get("startDate"):
            check_date(params["startDate"], "startDate", now)
            new["startDate"] = params["startDate"]
        if params.get("stopDate"):
            start = params.get("startDate") or old.get("startDate")
            check_date(params["stopDate"], "stopDate", now, start)
            new["stopDate"] = params["stopDate"]
        elif params.get("startDate") and old.get("stopDate"):
            start_ms, stop_ms = to_ms(params["startDate"]), to_ms(old["stopDate"])
            if start_ms is not None and stop_ms is not None and start_ms >= stop_ms:
                raise bad(
                    f"startDate parameter '{params['startDate']}' must be less than "
                    f"the stopDate parameter '{old['stopDate']}'"
                )
    if new == old:
        raise bad("no updatable parameters were specified")
    return new


def describe(config: Config) -> dict[str, Any]:
    """The `config` part of a READ answer, in OW's field names."""
    out: dict[str, Any] = {"payload": config.get("payload", {})}
    if "strict" in config:
        out["strict"] = config["strict"]
    if config["kind"] == "once":
        out.update(date=config["date"], deleteAfterFire=config.get("deleteAfterFire", "false"))
        return out
    out.update(startDate=config.get("startDate"), stopDate=config.get("stopDate"))
    if config["kind"] == "interval":
        out["minutes"] = config["minutes"]
    else:
        out.update(cron=config["cron"], timezone=config.get("timezone"))
    if config.get("maxTriggers", -1) != -1:
        out["maxTriggers"] = config["maxTriggers"]
    return out
